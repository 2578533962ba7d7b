/* commands.h: the subcommands, one file each (cli/cmd_<name>.c), and what they share. */
#ifndef PC_COMMANDS_H
#define PC_COMMANDS_H

#include "common/compat.h"
#include <stdio.h>
#include "common/error.h"

/* Each returns the process exit code. argv[0] is the subcommand's name. */
int cmd_snap(int argc, char **argv);
int cmd_capture(int argc, char **argv); /* cli/cmd_capture.c, with cmd_replay */
int cmd_replay(int argc, char **argv);

/* Parses a PID argument; fails with PC_EUSAGE naming the bad text. */
int cli_parse_pid(const char *s, int *pid, struct pc_err *e);
/* Prints the error line and returns its exit code. */
int cli_fail(const struct pc_err *e);
/* The exit-code table, for every --help. */
void cli_print_exit_codes(FILE *out);

#endif
