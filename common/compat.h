/* compat.h: first include of every .c file: feature macros and the few portable helpers. */
#ifndef PC_COMPAT_H
#define PC_COMPAT_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* process_vm_readv, pread, memmem */
#endif

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define PC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define PC_UNUSED __attribute__((unused))
#define PC_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define PC_NORETURN __attribute__((noreturn))

#endif
