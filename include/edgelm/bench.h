/* bench.h -- machine measurements used to judge the kernels: a STREAM-like
 * memory bandwidth test (the roofline for decode, which reads every weight
 * once per token). */
#ifndef EDGELM_BENCH_H
#define EDGELM_BENCH_H

#include "common.h"
#include "threads.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Best-of-reps bandwidth in GB/s (1e9 bytes/s) per kernel, STREAM's byte
 * accounting (write-allocate traffic not counted):
 *   copy  c = a        16 B/element     scale b = s*c     16 B/element
 *   add   c = a + b    24 B/element     triad a = b + s*c 24 B/element
 *   read  sum(a)        8 B/element     (what decode does with weights) */
typedef struct el_membw_result {
    double copy, scale, add, triad, read;
    size_t array_bytes;
    int threads, reps;
    bool small_pages;         /* asked for 4 KiB pages */
    double huge_share;        /* share of the arrays in huge pages (measured), -1 unknown */
    double seconds;   /* wall time of the whole test */
} el_membw_result;

/* array_bytes: size of each of the three arrays (0 = 4x the last-level
 * cache, at least 64 MiB). Arrays are first touched by the thread that uses
 * them. They sit in transparent huge pages where the kernel allows them, as
 * edgelm's packed weights do (el_huge_alloc); small_pages: on 4 KiB pages
 * instead (what a program that does not ask for huge pages gets). */
int el_membw(el_threads *tp, size_t array_bytes, int reps, bool small_pages, el_membw_result *out, el_err *err);

/* ---- a read-bandwidth probe for measuring next to other work ----
 * A shared machine's bandwidth moves from minute to minute (other tenants of
 * a VM host, clocks), so a roofline is only fair against bandwidth measured
 * at the time. The probe is a process of its own (forked: its array is not
 * the caller's memory, and start it before creating threads) holding an
 * array of `bytes` in huge pages and `threads` threads; each el_membw_probe_read
 * reads the array `reps` times and returns the best rate in GB/s. */
typedef struct el_membw_probe el_membw_probe;
el_membw_probe *el_membw_probe_start(int threads, size_t bytes, el_err *err);
/* gbs: best of reps full reads; huge_share: share of the array in huge
 * pages (-1 unknown; NULL: not wanted). A probe that died gives an error. */
int el_membw_probe_read(el_membw_probe *p, int reps, double *gbs, double *huge_share, el_err *err);
void el_membw_probe_stop(el_membw_probe *p);
/* the measuring process's id (diagnostics, tests) */
int el_membw_probe_pid(const el_membw_probe *p);

#ifdef __cplusplus
}
#endif
#endif
