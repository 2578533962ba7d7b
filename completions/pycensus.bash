# bash completion for pycensus: commands, each command's options and their values, the PIDs of
# running Python processes, files for -o and diff/replay, and the program after `run --`.
_pycensus_pids()
{
	local p
	for p in /proc/[0-9]*; do
		case "$(cat "$p/comm" 2>/dev/null)" in
		python*|gunicorn*|celery*|uwsgi*) echo "${p#/proc/}" ;;
		esac
	done
}

_pycensus()
{
	local cur prev cmd opts i
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	cmd=${COMP_WORDS[1]}
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "snap stats stacks run top serve why retained leaks inspect diff dump capture replay --help --version" -- "$cur"))
		return
	fi
	if [ "$cmd" = run ]; then
		for ((i = 2; i < COMP_CWORD; i++)); do
			if [ "${COMP_WORDS[i]}" = -- ]; then
				_command_offset $((i + 1))
				return
			fi
		done
	fi
	case "$prev" in
	-o|--output|--exe) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--sysroot) COMPREPLY=($(compgen -d -- "$cur")); return ;;
	-f|--format)
		case "$cmd" in
		snap) COMPREPLY=($(compgen -W "text csv json html pprof" -- "$cur")) ;;
		run) COMPREPLY=($(compgen -W "text csv json html" -- "$cur")) ;;
		stacks|leaks) COMPREPLY=($(compgen -W "text json" -- "$cur")) ;;
		why) COMPREPLY=($(compgen -W "text dot json" -- "$cur")) ;;
		*) COMPREPLY=($(compgen -W "text csv json" -- "$cur")) ;;
		esac
		return ;;
	--by) COMPREPLY=($(compgen -W "kind type module size" -- "$cur")); return ;;
	--size) COMPREPLY=($(compgen -W "getsizeof alloc" -- "$cur")); return ;;
	--arenas) COMPREPLY=($(compgen -W "auto symbols scan" -- "$cur")); return ;;
	--pause) COMPREPLY=($(compgen -W "copy census" -- "$cur")); return ;;
	--max-overhead) COMPREPLY=($(compgen -W "1 5 off" -- "$cur")); return ;;
	-i|--interval|-n|--rows|-c|--count|--top|-m|--match|-l|--listen|--kind|--addr|--min|--limit|-k|--suspects) return ;;
	esac
	case "$cmd" in
	snap) opts="--format --output --rows --by --size --arenas --nonblocking --pause --max-memory --no-header --stacks --interval --count --max-overhead --quiet --exe --sysroot --help" ;;
	stats) opts="--format --output --arenas --max-memory --exe --sysroot --help" ;;
	stacks) opts="--native --format --output --exe --sysroot --help" ;;
	run) opts="--interval --max-overhead --format --output --rows --arenas --pause --max-memory --quiet --help --" ;;
	top) opts="--interval --max-overhead --rows --count --arenas --pause --max-memory --help" ;;
	serve) opts="--match --listen --interval --top --arenas --pause --max-memory --help" ;;
	why) opts="--kind --addr --min --format --output --pause --max-memory --quiet --exe --sysroot --help" ;;
	retained) opts="--limit --min --format --output --pause --max-memory --quiet --exe --sysroot --help" ;;
	leaks) opts="--interval --suspects --rows --format --output --pause --max-memory --quiet --help" ;;
	inspect) opts="--top --min-instances --format --output --pause --max-memory --quiet --exe --sysroot --help" ;;
	diff) opts="--format --output --rows --help" ;;
	dump) opts="--output --level --arenas --pause --max-memory --quiet --help" ;;
	capture) opts="--arenas --help" ;;
	replay) opts="--format --rows --help" ;;
	esac
	if [[ "$cur" == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	elif [ "$cmd" = diff ] || [ "$cmd" = replay ]; then
		COMPREPLY=($(compgen -f -- "$cur"))
	elif [ "$cmd" = capture ] && [[ "$prev" =~ ^[0-9]+$ ]]; then
		COMPREPLY=($(compgen -f -- "$cur"))
	elif [ "$cmd" != run ]; then
		COMPREPLY=($(compgen -W "$(_pycensus_pids)" -- "$cur"))
		case "$cmd" in # a heap dump or a core file stands for the PID
		snap|stats|stacks|why|retained|inspect) COMPREPLY+=($(compgen -f -X '!*.pcheap' -- "$cur") $(compgen -f -X '!*core*' -- "$cur")) ;;
		esac
	fi
}
complete -F _pycensus pycensus
