/* linetable.c: line tables of CPython 3.8-3.15 (Objects/codeobject.c of each version). */
#include "common/compat.h"
#include "objects/linetable.h"

/* 3.8/3.9 PyCode_Addr2Line: add line deltas until the address passes addr. */
int linetable_lnotab(const uint8_t *tab, size_t len, int firstlineno, int addr)
{
	int line = firstlineno, at = 0;

	if (addr < 0)
		return firstlineno;
	for (size_t i = 0; i + 1 < len; i += 2) {
		at += tab[i];
		if (at > addr)
			break;
		line += (int8_t)tab[i + 1];
	}
	return line;
}

/* 3.10 PyLineTable_NextAddressRange: zero-length ranges are skipped, -128 means no line. */
int linetable_310(const uint8_t *tab, size_t len, int firstlineno, int addr)
{
	int start = 0, end = 0, line = firstlineno, ar_line = -1;

	if (addr < 0)
		return firstlineno;
	for (size_t i = 0; i + 1 < len; i += 2) {
		int ldelta = (int8_t)tab[i + 1];
		start = end;
		end += tab[i];
		if (ldelta == -128) {
			ar_line = -1;
		} else {
			line += ldelta;
			ar_line = line;
		}
		if (start < end && addr < end)
			return addr >= start ? ar_line : -1;
	}
	return -1;
}

/* Location-table codes (Include/cpython/code.h, 3.11-3.13). */
enum {
	LOC_ONE_LINE0 = 10,
	LOC_ONE_LINE1 = 11,
	LOC_ONE_LINE2 = 12,
	LOC_NO_COLUMNS = 13,
	LOC_LONG = 14,
	LOC_NONE = 15,
};

/* A signed varint: 6-bit chunks, bit 6 continues, the lowest bit of the value is the sign. A
 * varint running past the table (or past 32 bits) reads as 0. */
static int signed_varint(const uint8_t *tab, size_t len, size_t i)
{
	uint32_t val = 0;
	unsigned shift = 0;

	for (; i < len && shift < 32; i++, shift += 6) {
		val |= (uint32_t)(tab[i] & 63) << shift;
		if (!(tab[i] & 64))
			return (val & 1) ? -(int)(val >> 1) : (int)(val >> 1);
	}
	return 0;
}

static int line_delta(const uint8_t *tab, size_t len, size_t i)
{
	int code = (tab[i] >> 3) & 15;

	switch (code) {
	case LOC_NO_COLUMNS:
	case LOC_LONG:
		return signed_varint(tab, len, i + 1);
	case LOC_ONE_LINE1:
		return 1;
	case LOC_ONE_LINE2:
		return 2;
	default: /* NONE, ONE_LINE0 and the short forms keep the line */
		return 0;
	}
}

/* 3.11+ _PyLineTable_NextAddressRange: each entry starts with a byte whose top bit is set. */
int linetable_locations(const uint8_t *tab, size_t len, int firstlineno, int addr)
{
	int line = firstlineno, end = 0;
	size_t i = 0;

	if (addr < 0)
		return firstlineno;
	while (i < len) {
		uint8_t first = tab[i];
		int start = end;
		line += line_delta(tab, len, i);
		end += ((first & 7) + 1) * 2;
		for (i++; i < len && !(tab[i] & 128); i++)
			;
		if (addr >= start && addr < end)
			return ((first >> 3) & 15) == LOC_NONE ? -1 : line;
	}
	return -1;
}
