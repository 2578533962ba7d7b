/* output.c: opening report destinations and checking that writes reached them. */
#include "common/compat.h"
#include "report/output.h"

#include <errno.h>
#include <string.h>

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
