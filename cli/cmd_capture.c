/* cmd_capture.c: the debugging aids `pycensus capture PID FILE` (a census that also saves every
 * byte it read, with what it derived from /proc and the ELF file, to an image) and
 * `pycensus replay FILE` (the same census over that image, without the process). Used to report
 * a heap pycensus reads wrongly, to reproduce it offline, and as the fuzzers' seeds. */
#include "common/compat.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/commands.h"
#include "model/census.h"
#include "census/snapshot.h"
#include "source/image.h"
#include "source/source.h"
#include "report/json_docs.h"
#include "report/csv.h"
#include "report/output.h"
#include "report/partition.h"
#include "report/text.h"

static void capture_help(FILE *out)
{
	fprintf(out,
		"usage: pycensus capture [--arenas auto|symbols|scan] PID FILE\n"
		"       pycensus replay [-f text|csv|json] [-n N] FILE\n"
		"\n"
		"Debugging aids. capture takes a census of PID like 'snap' and saves to FILE everything it\n"
		"read: the regions of target memory, the maps, the interpreter's version, _PyRuntime and the\n"
		"symbols it looked up (a versioned binary format; about the size of the pymalloc arenas).\n"
		"replay takes the same census over FILE alone, as if the process were there: reads outside\n"
		"the captured regions fail as reads of unmapped memory do. Attach an image to a bug report\n"
		"when a census looks wrong; it holds the process's heap, so only share it when you may.\n\n");
	cli_print_exit_codes(out);
}

static int parse_opts(int argc, char **argv, struct snapshot_opts *o, const char **format, size_t *limit,
		      struct pc_err *e)
{
	static const struct option longopts[] = {
		{ "arenas", required_argument, NULL, 'a' }, { "format", required_argument, NULL, 'f' },
		{ "rows", required_argument, NULL, 'n' }, { "help", no_argument, NULL, 'h' }, { 0, 0, 0, 0 },
	};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+f:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': if (cli_parse_arenas(optarg, &o->arenas, e) < 0) return -1; break;
		case 'f': if (cli_parse_format(optarg, CLI_FMT(TEXT) | CLI_FMT(CSV) | CLI_FMT(JSON), e) < 0) return -1; *format = optarg; break;
		case 'n': if (cli_parse_rows(optarg, limit, e) < 0) return -1; break;
		case 'h': capture_help(stdout); exit(0);
		default: return pc_fail(e, PC_EUSAGE, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	return 0;
}

static int print_census(const struct census *c, const char *format, size_t limit, struct pc_err *e)
{
	struct partition p;
	FILE *out = output_open(NULL, e);
	int rc;

	if (!out)
		return -1;
	partition_by_kind(c, &p);
	if (strcmp(format, "json") == 0)
		rc = report_snap_json(out, c, &p, "kind", e);
	else
		rc = strcmp(format, "csv") == 0 ? report_csv(out, c, &p, e) : report_text(out, c, &p, limit, true, e);
	partition_release(&p);
	if (rc < 0) {
		output_close(out, NULL);
		return -1;
	}
	return output_close(out, e);
}

int cmd_capture(int argc, char **argv)
{
	struct pc_err e = { 0 };
	struct snapshot_opts o = { 0 };
	const char *format = "text";
	size_t limit = 20;
	struct source src;
	struct census c;
	int pid, rc;

	if (parse_opts(argc, argv, &o, &format, &limit, &e) < 0)
		return cli_fail(&e);
	if (argc - optind != 2) {
		pc_fail(&e, PC_EUSAGE, "capture needs a PID and an output FILE");
		return cli_fail(&e);
	}
	if (cli_parse_pid(argv[optind], &pid, &e) < 0 || source_open_pid(&src, pid, 0, &e) < 0)
		return cli_fail(&e);
	o.capture = argv[optind + 1];
	census_init(&c);
	rc = snapshot_take(&src, &o, &c, &e);
	source_close(&src);
	if (rc == 0)
		fprintf(stderr, "pycensus: captured pid %d (%llu objects, %.1f MiB read) to %s\n", pid,
			(unsigned long long)c.nobjects, (double)c.bytes_read / (1 << 20), o.capture);
	census_release(&c);
	return rc < 0 ? cli_fail(&e) : 0;
}

int cmd_replay(int argc, char **argv)
{
	struct pc_err e = { 0 };
	struct snapshot_opts o = { 0 };
	const char *format = "text";
	size_t limit = 20;
	struct pyimage img;
	struct source src;
	struct census c;
	int rc;

	if (parse_opts(argc, argv, &o, &format, &limit, &e) < 0)
		return cli_fail(&e);
	if (argc - optind != 1) {
		pc_fail(&e, PC_EUSAGE, "replay needs one image FILE");
		return cli_fail(&e);
	}
	if (image_load(argv[optind], &img, &e) < 0)
		return cli_fail(&e);
	source_open_image(&src, &img);
	census_init(&c);
	rc = snapshot_take(&src, &o, &c, &e);
	source_close(&src);
	if (rc == 0)
		rc = print_census(&c, format, limit, &e);
	census_release(&c);
	image_release(&img);
	return rc < 0 ? cli_fail(&e) : 0;
}
