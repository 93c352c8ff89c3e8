/* threads.c -- persistent thread pool (spin, then futex sleep) and CPU features. */
#include "edgelm/threads.h"

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define el_cpu_relax() _mm_pause()
#elif defined(__aarch64__)
#include <sys/auxv.h>
#define el_cpu_relax() __asm__ __volatile__("yield" ::: "memory")
#else
#define el_cpu_relax() ((void)0)
#endif

/* Spin this many relax-iterations waiting for work before sleeping
 * (a few milliseconds: longer than the gap between two ops of one token). */
#define EL_SPIN_ITERS 100000

struct el_threads {
    int n;
    pthread_t *tid;
    int *ids;
    _Atomic int gen;       /* bumped once per el_threads_run */
    _Atomic int pending;   /* workers still running the current task */
    _Atomic int sleepers;  /* workers blocked in futex_wait */
    _Atomic int stop;
    el_task_fn fn;
    void *arg;
};

typedef struct {
    el_threads *tp;
    int ith;
} worker_arg;

static void futex_wait(_Atomic int *addr, int expected)
{
#ifdef __linux__
    syscall(SYS_futex, (int *)addr, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
#else
    (void)addr, (void)expected;
    sched_yield();
#endif
}

static void futex_wake_all(_Atomic int *addr)
{
#ifdef __linux__
    syscall(SYS_futex, (int *)addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#else
    (void)addr;
#endif
}

/* Wait until tp->gen differs from `seen`; returns the new generation. */
static int wait_for_work(el_threads *tp, int seen)
{
    for (long spin = 0; spin < EL_SPIN_ITERS; spin++) {
        int g = atomic_load_explicit(&tp->gen, memory_order_acquire);
        if (g != seen) return g;
        el_cpu_relax();
        /* let a preempted thread of ours run when cores are oversubscribed */
        if ((spin & 1023) == 1023) sched_yield();
    }
    for (;;) {
        atomic_fetch_add(&tp->sleepers, 1);
        int g = atomic_load(&tp->gen);
        if (g == seen) futex_wait(&tp->gen, seen);
        atomic_fetch_sub(&tp->sleepers, 1);
        g = atomic_load_explicit(&tp->gen, memory_order_acquire);
        if (g != seen) return g;
    }
}

static void *worker_main(void *p)
{
    worker_arg *wa = p;
    el_threads *tp = wa->tp;
    int seen = 0;
    for (;;) {
        seen = wait_for_work(tp, seen);
        if (atomic_load_explicit(&tp->stop, memory_order_acquire)) break;
        tp->fn(tp->arg, wa->ith, tp->n);
        atomic_fetch_sub_explicit(&tp->pending, 1, memory_order_release);
    }
    return NULL;
}

el_threads *el_threads_new(int n, el_err *err)
{
    if (n < 1 || n > 1024) {
        el_errf(err, "thread count %d out of range [1, 1024]", n);
        return NULL;
    }
    el_threads *tp = el_calloc(1, sizeof *tp, err);
    if (!tp) return NULL;
    tp->n = n;
    if (n == 1) return tp;
    tp->tid = el_calloc((size_t)n, sizeof *tp->tid, err);
    worker_arg *args = el_calloc((size_t)n, sizeof *args, err);
    tp->ids = (int *)args;
    if (!tp->tid || !args) {
        free(tp->tid);
        free(args);
        free(tp);
        return NULL;
    }
    for (int i = 1; i < n; i++) {
        args[i].tp = tp;
        args[i].ith = i;
        int rc = pthread_create(&tp->tid[i], NULL, worker_main, &args[i]);
        if (rc != 0) {
            el_errf(err, "cannot start thread %d of %d: %s", i, n, strerror(rc));
            tp->n = i;   /* only join the ones that started */
            el_threads_free(tp);
            return NULL;
        }
    }
    return tp;
}

void el_threads_free(el_threads *tp)
{
    if (!tp) return;
    if (tp->n > 1) {
        atomic_store(&tp->stop, 1);
        atomic_fetch_add(&tp->gen, 1);
        futex_wake_all(&tp->gen);
        for (int i = 1; i < tp->n; i++) pthread_join(tp->tid[i], NULL);
    }
    free(tp->tid);
    free(tp->ids);
    free(tp);
}

int el_threads_count(const el_threads *tp) { return tp ? tp->n : 1; }

void el_threads_run(el_threads *tp, el_task_fn fn, void *arg)
{
    if (!tp || tp->n == 1) {
        fn(arg, 0, 1);
        return;
    }
    tp->fn = fn;
    tp->arg = arg;
    atomic_store_explicit(&tp->pending, tp->n - 1, memory_order_relaxed);
    atomic_fetch_add(&tp->gen, 1);   /* seq_cst: publishes fn/arg/pending */
    if (atomic_load(&tp->sleepers) > 0) futex_wake_all(&tp->gen);
    fn(arg, 0, tp->n);
    for (long spin = 1; atomic_load_explicit(&tp->pending, memory_order_acquire) > 0; spin++) {
        el_cpu_relax();
        if ((spin & 255) == 0) sched_yield();
    }
}

typedef struct {
    _Atomic int64_t next;
    int64_t n, chunk;
    el_range_fn fn;
    void *arg;
} pfor_state;

static void pfor_task(void *p, int ith, int nth)
{
    (void)nth;
    pfor_state *s = p;
    for (;;) {
        int64_t b = atomic_fetch_add_explicit(&s->next, s->chunk, memory_order_relaxed);
        if (b >= s->n) break;
        int64_t e = b + s->chunk < s->n ? b + s->chunk : s->n;
        s->fn(s->arg, b, e, ith);
    }
}

void el_parallel_for(el_threads *tp, int64_t n, int64_t chunk, el_range_fn fn, void *arg)
{
    if (n <= 0) return;
    int nth = el_threads_count(tp);
    if (chunk <= 0) {
        chunk = n / ((int64_t)nth * 4);
        if (chunk < 1) chunk = 1;
    }
    if (nth == 1 || n <= chunk) {
        fn(arg, 0, n, 0);
        return;
    }
    pfor_state s = {.n = n, .chunk = chunk, .fn = fn, .arg = arg};
    atomic_init(&s.next, 0);
    el_threads_run(tp, pfor_task, &s);
}

/* ---- topology -------------------------------------------------------- */

int el_physical_cores(void)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpu < 1) ncpu = 1;
    if (ncpu > 4096) ncpu = 4096;
    /* Count distinct thread-sibling sets: one per physical core. */
    char (*seen)[64] = calloc((size_t)ncpu, 64);
    int ncore = 0;
    if (seen) {
        for (long c = 0; c < ncpu; c++) {
            char path[128], buf[64] = {0};
            snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%ld/topology/thread_siblings_list", c);
            FILE *f = fopen(path, "r");
            if (!f) continue;
            if (!fgets(buf, sizeof buf, f)) buf[0] = 0;
            fclose(f);
            buf[strcspn(buf, "\n")] = 0;
            int dup = 0;
            for (int k = 0; k < ncore && !dup; k++) dup = strcmp(seen[k], buf) == 0;
            if (!dup) memcpy(seen[ncore++], buf, sizeof buf);
        }
        free(seen);
    }
    if (ncore < 1) ncore = (int)ncpu;
#ifdef __linux__
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int allowed = CPU_COUNT(&set);
        if (allowed > 0 && allowed < ncore) ncore = allowed;
    }
#endif
    return ncore;
}

/* ---- CPU features ------------------------------------------------------ */

static el_cpu_features g_cpu;
static pthread_once_t g_cpu_once = PTHREAD_ONCE_INIT;
static char g_cpu_desc[256];

static void detect_cpu(void)
{
    el_cpu_features *f = &g_cpu;
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    bool osxsave = c & (1u << 27);
    bool fma = c & (1u << 12), f16c = c & (1u << 29), avx = c & (1u << 28);
    unsigned long long xcr0 = 0;
    if (osxsave) {
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        xcr0 = ((unsigned long long)hi << 32) | lo;
    }
    bool ymm_ok = (xcr0 & 0x6) == 0x6;
    bool zmm_ok = (xcr0 & 0xe6) == 0xe6;
    f->fma = fma && ymm_ok && avx;
    f->f16c = f16c && ymm_ok && avx;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        f->avx2 = (b & (1u << 5)) && ymm_ok;
        f->avx512f = (b & (1u << 16)) && zmm_ok;
        f->avx512bw = (b & (1u << 30)) && zmm_ok;
        f->avx512vl = (b & (1u << 31)) && zmm_ok;
        f->avx512vnni = (c & (1u << 11)) && zmm_ok;
        if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) {
            f->avx512bf16 = (a & (1u << 5)) && zmm_ok;
            f->avxvnni = (a & (1u << 4)) && ymm_ok;
        }
    }
#elif defined(__aarch64__)
    unsigned long hw = getauxval(AT_HWCAP);
    f->neon = true;   /* mandatory on AArch64 */
#ifdef HWCAP_ASIMDDP
    f->neon_dotprod = hw & HWCAP_ASIMDDP;
#endif
#ifdef HWCAP_ASIMDHP
    f->neon_fp16 = hw & HWCAP_ASIMDHP;
#endif
#ifdef HWCAP2_I8MM
    f->neon_i8mm = getauxval(AT_HWCAP2) & HWCAP2_I8MM;
#endif
    (void)hw;
#endif
    static const struct {
        size_t off;
        const char *name;
    } names[] = {
        {offsetof(el_cpu_features, avx2), "AVX2"},
        {offsetof(el_cpu_features, fma), "FMA"},
        {offsetof(el_cpu_features, f16c), "F16C"},
        {offsetof(el_cpu_features, avx512f), "AVX512F"},
        {offsetof(el_cpu_features, avx512bw), "AVX512BW"},
        {offsetof(el_cpu_features, avx512vl), "AVX512VL"},
        {offsetof(el_cpu_features, avx512vnni), "AVX512_VNNI"},
        {offsetof(el_cpu_features, avx512bf16), "AVX512_BF16"},
        {offsetof(el_cpu_features, avxvnni), "AVX_VNNI"},
        {offsetof(el_cpu_features, neon), "NEON"},
        {offsetof(el_cpu_features, neon_dotprod), "DOTPROD"},
        {offsetof(el_cpu_features, neon_i8mm), "I8MM"},
        {offsetof(el_cpu_features, neon_fp16), "FP16"},
    };
    size_t len = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!*(const bool *)((const char *)f + names[i].off)) continue;
        int w = snprintf(g_cpu_desc + len, sizeof g_cpu_desc - len, "%s%s", len ? " " : "", names[i].name);
        if (w > 0 && (size_t)w < sizeof g_cpu_desc - len) len += (size_t)w;
    }
    if (!len) snprintf(g_cpu_desc, sizeof g_cpu_desc, "scalar");
}

const el_cpu_features *el_cpu(void)
{
    pthread_once(&g_cpu_once, detect_cpu);
    return &g_cpu;
}

const char *el_cpu_describe(void)
{
    pthread_once(&g_cpu_once, detect_cpu);
    return g_cpu_desc;
}
