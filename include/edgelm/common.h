/* common.h -- error reporting and version shared by every room of edgelm. */
#ifndef EDGELM_COMMON_H
#define EDGELM_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EL_VERSION_STRING "0.1.0"

/* An error message buffer. Functions that fail write one line (no trailing
 * newline) naming what went wrong and where, e.g.
 *   "model.gguf: tensor 'blk.0.attn_q.weight': data [1024, 5120) extends past end of file (4096 bytes)" */
typedef struct el_err {
    char msg[512];
} el_err;

/* printf-style: set err->msg (err may be NULL). Always returns -1 so callers
 * can write `return el_errf(err, "...")`. */
int el_errf(el_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefix an existing message: "<prefix>: <old message>". Returns -1. */
int el_err_prefix(el_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Checked allocation helpers: return NULL and set err on failure (or on
 * n*size overflow). */
void *el_malloc(size_t size, el_err *err);
void *el_calloc(size_t n, size_t size, el_err *err);

/* Monotonic clock in seconds. */
double el_now(void);

#ifdef __cplusplus
}
#endif
#endif
