"""bench/benchlib.py: what the benchmarks share: the reference interpreter, found, not assumed; the floor's
program (bench/vmread.c), built."""
import os
import re
import subprocess


def default_python():
    """pyenv's newest 3.12 build (the benchmarks' reference interpreter)."""
    root = os.environ.get("PYENV_ROOT")
    if not root:
        try:
            root = subprocess.run(["pyenv", "root"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  universal_newlines=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            root = os.path.expanduser("~/.pyenv")
    vdir = os.path.join(root, "versions")
    builds = sorted((d for d in (os.listdir(vdir) if os.path.isdir(vdir) else []) if re.fullmatch(r"3\.12\.\d+", d)),
                    key=lambda d: int(d.split(".")[2]))
    return os.path.join(vdir, builds[-1], "bin", "python3.12") if builds else "python3.12"


def build_floor():
    """build/bench/vmread, (re)built from bench/vmread.c when older than it."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    src = os.path.join(root, "bench", "vmread.c")
    out = os.path.join(root, "build", "bench", "vmread")
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(src):
        os.makedirs(os.path.dirname(out), exist_ok=True)
        r = subprocess.run([os.environ.get("CC", "cc"), "-O2", "-Wall", "-Wextra", "-o", out, src])
        if r.returncode != 0:
            raise SystemExit("bench: cannot build %s" % out)
    return out
