/* testutil.h -- small helpers shared by the tests (cmocka is the framework).
 *
 * Paths: EL_SHARED_DIR (../shared beside the repository), EL_BIN (the edgelm
 * program), EL_TEST_TMP (scratch space in the build tree) come from CMake. */
#ifndef EL_TESTUTIL_H
#define EL_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

/* malloc'd "<EL_SHARED_DIR>/<rel>" */
char *tu_shared(const char *rel);
/* malloc'd "<EL_TEST_TMP>/<name>" (the directory exists) */
char *tu_tmp(const char *name);
/* whole file, NUL-terminated (len excludes the NUL); NULL if unreadable */
char *tu_read_file(const char *path, size_t *len);
int tu_write_file(const char *path, const void *data, size_t len);
int tu_file_exists(const char *path);
/* Parse space-separated integers; returns count, *out malloc'd. */
size_t tu_parse_ints(const char *text, int32_t **out);
/* Run `sh -c cmd`; capture stdout and stderr (malloc'd, may pass NULL).
 * Returns the exit status (128+signal if killed, -1 if it could not run). */
int tu_run(const char *cmd, char **out, char **err);
/* printf into a malloc'd string */
char *tu_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
