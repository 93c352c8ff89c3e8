/* threads.h -- a persistent thread pool and the CPU's features.
 *
 * The pool is created once (per context) and reused for every operation:
 * no thread is created per token. `el_threads_run` runs one function on all
 * n threads at once (the caller is thread 0) and returns when every thread
 * has finished; idle workers spin briefly and then sleep on a futex, so a
 * decode step (hundreds of small operations) does not pay a wake-up each time
 * while an idle pool costs nothing.
 *
 * `el_parallel_for` hands out chunks of [0, n) from a shared counter, so
 * threads that finish early take more work (balance on uneven cores). */
#ifndef EDGELM_THREADS_H
#define EDGELM_THREADS_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct el_threads el_threads;

/* fn(arg, ith, nth): thread ith of nth. */
typedef void (*el_task_fn)(void *arg, int ith, int nth);
/* fn(arg, begin, end, ith): process items [begin, end) on thread ith. */
typedef void (*el_range_fn)(void *arg, int64_t begin, int64_t end, int ith);

/* n >= 1 threads in total (n-1 workers are started). */
el_threads *el_threads_new(int n, el_err *err);
void el_threads_free(el_threads *tp);
int el_threads_count(const el_threads *tp);   /* 1 for a NULL pool */

/* Run fn on every thread; NULL pool runs fn(arg, 0, 1) on the caller. */
void el_threads_run(el_threads *tp, el_task_fn fn, void *arg);

/* Split [0, n) into chunks of `chunk` items (0 = choose) handed out
 * dynamically to all threads. */
void el_parallel_for(el_threads *tp, int64_t n, int64_t chunk, el_range_fn fn, void *arg);

/* Physical cores of this machine (SMT siblings counted once); >= 1. */
int el_physical_cores(void);

/* CPU features, detected once at run time. */
typedef struct el_cpu_features {
    bool avx2, fma, f16c, avx512f, avx512bw, avx512vl, avx512vnni, avx512bf16, avxvnni;
    bool neon, neon_dotprod, neon_i8mm, neon_fp16;
} el_cpu_features;

const el_cpu_features *el_cpu(void);
/* Human-readable list, e.g. "AVX2 FMA F16C AVX512F AVX512BW AVX512VL AVX512_VNNI". */
const char *el_cpu_describe(void);

#ifdef __cplusplus
}
#endif
#endif
