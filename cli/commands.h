/* commands.h: the subcommands, one file each (cli/cmd_<name>.c), and what they share. */
#ifndef PC_COMMANDS_H
#define PC_COMMANDS_H

#include "common/compat.h"
#include <stdio.h>
#include "common/error.h"
#include "pymalloc/arenas.h"
#include "census/snapshot.h"

/* Each returns the process exit code. argv[0] is the subcommand's name. */
int cmd_snap(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_stacks(int argc, char **argv);

int cmd_run(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_serve(int argc, char **argv); /* cli/cmd_serve.c, with cli/serve_http.c */
int cmd_capture(int argc, char **argv); /* cli/cmd_capture.c, with cmd_replay */
int cmd_replay(int argc, char **argv);
int cmd_why(int argc, char **argv);     /* cli/cmd_why.c */
int cmd_retained(int argc, char **argv); /* cli/cmd_retained.c */
int cmd_leaks(int argc, char **argv);    /* cli/cmd_leaks.c */
int cmd_inspect(int argc, char **argv);  /* cli/cmd_inspect.c */
int cmd_dump(int argc, char **argv);     /* cli/cmd_dump.c */

/* pycensus's version as --version prints it (main() sets it; "unknown" in the test programs), for
 * reports that name their writer (-f pprof). */
extern const char *cli_version;

/* Parses a PID argument; fails with PC_EUSAGE naming the bad text. */
int cli_parse_pid(const char *s, int *pid, struct pc_err *e);
/* Index of v in choices[n]; fails with PC_EUSAGE naming the option `opt` and the choices. */
int cli_parse_choice(const char *v, const char *const *choices, size_t n, const char *opt, struct pc_err *e);
/* -f: the output formats; a command accepts those whose bits (1u << CLI_FMT_...) are in allowed. */
enum cli_format { CLI_FMT_TEXT, CLI_FMT_CSV, CLI_FMT_JSON, CLI_FMT_HTML, CLI_FMT_PPROF, CLI_FMT_DOT };
#define CLI_FMT(f) (1u << CLI_FMT_##f)
/* The format named s among the allowed ones, or -1 with PC_EUSAGE listing them in order. */
int cli_parse_format(const char *s, unsigned allowed, struct pc_err *e);
/* -f html goes to -o FILE or a pipe: 0, or -1 with USAGE when output (NULL or "-": stdout) is a
 * terminal. */
int cli_check_html_output(const char *output, struct pc_err *e);
/* -n: a number of rows (0 = all). */
int cli_parse_rows(const char *s, size_t *n, struct pc_err *e);
/* A positive count for option opt ("-c"), `what` naming its unit in the error ("samples"). */
int cli_parse_count(const char *s, const char *opt, const char *what, unsigned long *n, struct pc_err *e);
/* A percentage from 0 to 100 for option opt ("--min"). */
int cli_parse_percent(const char *s, const char *opt, double *v, struct pc_err *e);
/* --arenas auto|symbols|scan. */
int cli_parse_arenas(const char *s, enum arena_mode *m, struct pc_err *e);
/* --pause copy|census. */
int cli_parse_pause(const char *s, enum pause_mode *m, struct pc_err *e);
/* The --pause help text, shared by every command that takes a census. */
extern const char cli_pause_help[];
/* --max-memory: a size with K/M/G/T (powers of 1024), at least 4M, or none (SNAPSHOT_UNBOUNDED) */
int cli_parse_memory(const char *s, uint64_t *v, struct pc_err *e);
extern const char cli_memory_help[];
/* -i: seconds between samples, 0.01 to 86400. */
int cli_parse_interval(const char *s, double *v, struct pc_err *e);
/* Prints the error line and returns its exit code. */
int cli_fail(const struct pc_err *e);
/* The exit-code table, for every --help. */
void cli_print_exit_codes(FILE *out);

#endif
