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

/* Big buffers that are streamed over and over (packed weights, the bandwidth
 * test's arrays): mapped on a 2 MiB boundary and advised into transparent
 * huge pages where the kernel allows them. On 4 KiB pages the TLB misses
 * (two-level page walks under a hypervisor) cost up to a third of the read
 * bandwidth. Pages are touched only when written. NULL and err set when out of
 * memory; free with el_huge_free and the same size. */
void *el_huge_alloc(size_t bytes, el_err *err);
void el_huge_free(void *p, size_t bytes);
/* Bytes of [p, p + bytes) that sit in huge pages now (Linux: the
 * AnonHugePages of the mappings that overlap it in /proc/self/smaps, at most
 * `bytes`; measured), or -1 where that cannot be read. */
int64_t el_huge_resident(const void *p, size_t bytes);

/* Memory ceiling: EL_MAX_MEMORY (e.g. "8G", "512M", bytes) or else the
 * machine's physical memory. Allocations sized by file contents (KV cache,
 * scratch, vocabularies) are checked against it before they are made. */
uint64_t el_mem_limit(void);
/* 0 if `bytes` fit under the ceiling, else -1 with "<what> needs X MiB, more
 * than the memory ceiling ..." */
int el_mem_check(uint64_t bytes, const char *what, el_err *err);
/* "1.5G", "512M", "64k", "123" -> bytes (binary units); -1 if malformed. */
int el_parse_size(const char *s, uint64_t *out);

/* Temporary output files (written, then renamed into place) are registered
 * while they exist; after el_cleanup_on_signals(), SIGINT/SIGTERM/SIGHUP
 * remove them before the process dies, so an interrupted run leaves neither a
 * truncated output nor a stray temporary. Returns a slot, or -1 if full. */
int el_tmpfile_register(const char *path);
void el_tmpfile_unregister(int slot);
void el_cleanup_on_signals(void);

/* Monotonic clock in seconds. */
double el_now(void);

#ifdef __cplusplus
}
#endif
#endif
