/* output.c: opening report destinations and checking that writes reached them. */
#include "common/compat.h"
#include "report/output.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

FILE *output_open(const char *path, struct pc_err *e)
{
	FILE *f;

	if (!path || strcmp(path, "-") == 0)
		return stdout;
	f = fopen(path, "w");
	if (!f)
		pc_fail(e, PC_EOUTPUT, "%s: %s", path, strerror(errno));
	return f;
}

int output_check_path(const char *path, struct pc_err *e)
{
	char dir[4096];
	const char *slash;
	struct stat st;

	if (!path || strcmp(path, "-") == 0)
		return 0;
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return pc_fail(e, PC_EOUTPUT, "%s: %s", path, strerror(EISDIR));
		if (access(path, W_OK) != 0)
			return pc_fail(e, PC_EOUTPUT, "%s: %s", path, strerror(errno));
		return 0;
	}
	if (errno != ENOENT)
		return pc_fail(e, PC_EOUTPUT, "%s: %s", path, strerror(errno));
	slash = strrchr(path, '/');
	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? (slash == path ? "/" : path) : ".");
	if (access(dir, W_OK | X_OK) != 0)
		return pc_fail(e, PC_EOUTPUT, "%s: %s", path, strerror(errno));
	return 0;
}

int output_check(FILE *f, const char *what, struct pc_err *e)
{
	/* An earlier failed write leaves only the error flag: its errno is long gone, so EIO stands
	 * in when the final flush itself does not fail. */
	int err = 0;

	errno = 0;
	if (fflush(f) != 0)
		err = errno ? errno : EIO;
	else if (ferror(f))
		err = EIO;
	if (!err)
		return 0;
	return pc_fail(e, PC_EOUTPUT, "%s: %s", what, strerror(err));
}

int output_close(FILE *f, struct pc_err *e)
{
	int rc;

	if (!f)
		return 0;
	rc = output_check(f, "output", e);
	if (f == stdout)
		return rc;
	errno = 0;
	if (fclose(f) != 0 && rc == 0)
		rc = pc_fail(e, PC_EOUTPUT, "closing output: %s", strerror(errno ? errno : EIO));
	return rc;
}
