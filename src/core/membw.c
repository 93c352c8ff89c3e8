/* membw.c -- STREAM-like bandwidth test over the thread pool. Each thread
 * owns a contiguous slice of every array (static split, first touch by the
 * owner), as STREAM's OpenMP version does. */
#include "edgelm/bench.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

enum { K_INIT, K_COPY, K_SCALE, K_ADD, K_TRIAD, K_READ, K_COUNT, K_FILL_A = K_COUNT };

typedef struct {
    double *a, *b, *c;
    size_t n;
    int kernel;
    uint64_t sums[64];
} membw_job;

static void slice(size_t n, int ith, int nth, size_t *b, size_t *e)
{
    size_t per = (n + (size_t)nth - 1) / (size_t)nth;
    per = (per + 7) & ~(size_t)7;   /* keep slices cache-line aligned */
    *b = per * (size_t)ith < n ? per * (size_t)ith : n;
    *e = *b + per < n ? *b + per : n;
}

static void membw_task(void *arg, int ith, int nth)
{
    membw_job *j = arg;
    size_t b, e;
    slice(j->n, ith, nth, &b, &e);
    double *restrict a = j->a, *restrict bb = j->b, *restrict c = j->c;
    const double s = 3.0;
    switch (j->kernel) {
    case K_INIT:
        for (size_t i = b; i < e; i++) a[i] = 1.0, bb[i] = 2.0, c[i] = 0.0;
        break;
    case K_FILL_A:
        for (size_t i = b; i < e; i++) a[i] = 1.0;
        break;
    case K_COPY:
        for (size_t i = b; i < e; i++) c[i] = a[i];
        break;
    case K_SCALE:
        for (size_t i = b; i < e; i++) bb[i] = s * c[i];
        break;
    case K_ADD:
        for (size_t i = b; i < e; i++) c[i] = a[i] + bb[i];
        break;
    case K_TRIAD:
        for (size_t i = b; i < e; i++) a[i] = bb[i] + s * c[i];
        break;
    case K_READ: {
        /* integer view so the reduction vectorises without reassociating floats */
        typedef uint64_t v2u __attribute__((vector_size(16)));
        const v2u *restrict u = (const v2u *)(a + b);   /* slices are 64-byte aligned */
        size_t nv = (e - b) / 2;
        v2u acc0 = {0}, acc1 = {0}, acc2 = {0}, acc3 = {0};
        size_t i = 0;
        for (; i + 4 <= nv; i += 4) acc0 += u[i], acc1 += u[i + 1], acc2 += u[i + 2], acc3 += u[i + 3];
        for (; i < nv; i++) acc0 += u[i];
        v2u t = acc0 + acc1 + acc2 + acc3;
        uint64_t sum = t[0] + t[1];
        if ((e - b) & 1) sum += ((const uint64_t *)a)[e - 1];
        j->sums[ith & 63] = sum;
        break;
    }
    }
}

static size_t default_array_bytes(void)
{
    long llc = -1;
#ifdef _SC_LEVEL3_CACHE_SIZE
    llc = sysconf(_SC_LEVEL3_CACHE_SIZE);
    if (llc <= 0) llc = sysconf(_SC_LEVEL2_CACHE_SIZE);
#endif
    size_t want = llc > 0 ? (size_t)llc * 4 : 0;
    size_t min = (size_t)64 << 20, max = (size_t)512 << 20;
    return want < min ? min : want > max ? max : want;
}

int el_membw(el_threads *tp, size_t array_bytes, int reps, bool small_pages, el_membw_result *out, el_err *err)
{
    memset(out, 0, sizeof *out);
    if (array_bytes == 0) array_bytes = default_array_bytes();
    if (array_bytes < 4096 || array_bytes > ((size_t)1 << 36))
        return el_errf(err, "membw: array size %zu bytes out of range [4 KiB, 64 GiB]", array_bytes);
    if (reps < 1 || reps > 1000) return el_errf(err, "membw: repetitions %d out of range [1, 1000]", reps);
    membw_job j = {0};
    j.n = array_bytes / sizeof(double);
    size_t bytes = j.n * sizeof(double);
    j.a = el_huge_alloc(bytes, NULL);
    j.b = el_huge_alloc(bytes, NULL);
    j.c = el_huge_alloc(bytes, NULL);
    if (!j.a || !j.b || !j.c) {
        el_huge_free(j.a, bytes), el_huge_free(j.b, bytes), el_huge_free(j.c, bytes);
        return el_errf(err, "membw: cannot allocate 3 arrays of %zu bytes", bytes);
    }
#ifdef MADV_NOHUGEPAGE
    if (small_pages)
        for (int k = 0; k < 3; k++) madvise(k == 0 ? (void *)j.a : k == 1 ? (void *)j.b : (void *)j.c, bytes, MADV_NOHUGEPAGE);
#endif
    double t_start = el_now();
    j.kernel = K_INIT;
    el_threads_run(tp, membw_task, &j);
    static const double bytes_per_elem[K_COUNT] = {0, 16, 16, 24, 24, 8};
    double best[K_COUNT] = {0};
    for (int r = 0; r < reps; r++) {
        for (int k = K_COPY; k < K_COUNT; k++) {
            j.kernel = k;
            double t0 = el_now();
            el_threads_run(tp, membw_task, &j);
            double dt = el_now() - t0;
            double gbs = bytes_per_elem[k] * (double)j.n / dt / 1e9;
            if (dt > 0 && gbs > best[k]) best[k] = gbs;
        }
    }
    out->copy = best[K_COPY];
    out->scale = best[K_SCALE];
    out->add = best[K_ADD];
    out->triad = best[K_TRIAD];
    out->read = best[K_READ];
    out->array_bytes = bytes;
    out->small_pages = small_pages;
    int64_t h[3] = {el_huge_resident(j.a, bytes), el_huge_resident(j.b, bytes), el_huge_resident(j.c, bytes)};
    out->huge_share = h[0] < 0 || h[1] < 0 || h[2] < 0 ? -1 : (double)(h[0] + h[1] + h[2]) / (3.0 * (double)bytes);
    out->threads = el_threads_count(tp);
    out->reps = reps;
    out->seconds = el_now() - t_start;
    /* check the arithmetic STREAM-style so the loops cannot be optimised away */
    int bad = j.a[0] != j.a[j.n - 1] || j.c[0] != j.c[j.n - 1];
    el_huge_free(j.a, bytes), el_huge_free(j.b, bytes), el_huge_free(j.c, bytes);
    if (bad) return el_errf(err, "membw: arrays disagree after the run (memory error?)");
    return 0;
}

/* ---- the probe: a child process that reads its array on request ---------- */

struct el_membw_probe {
    pid_t pid;
    int fd;   /* our end of a socket pair: send() with MSG_NOSIGNAL, so a dead child is an error, not SIGPIPE */
    int threads;
    size_t bytes;
};

/* the child: one request (int reps) -> one answer (double gbs, double huge share), until EOF */
static void probe_child(int fd, int threads, size_t bytes)
{
    el_threads *tp = el_threads_new(threads, NULL);
    membw_job j = {0};
    j.n = bytes / sizeof(double);
    j.a = el_huge_alloc(j.n * sizeof(double), NULL);
    if (!tp || !j.a) _exit(1);
    j.kernel = K_FILL_A;
    el_threads_run(tp, membw_task, &j);
    int64_t huge = el_huge_resident(j.a, j.n * sizeof(double));
    int reps;
    while (recv(fd, &reps, sizeof reps, MSG_WAITALL) == (ssize_t)sizeof reps) {
        double best = 0;
        j.kernel = K_READ;
        for (int r = 0; r < reps; r++) {
            double t0 = el_now();
            el_threads_run(tp, membw_task, &j);
            double dt = el_now() - t0;
            if (dt > 0 && (double)(j.n * sizeof(double)) / dt / 1e9 > best) best = (double)(j.n * sizeof(double)) / dt / 1e9;
        }
        double ans[2] = {best, huge < 0 ? -1 : (double)huge / (double)(j.n * sizeof(double))};
        if (send(fd, ans, sizeof ans, MSG_NOSIGNAL) != (ssize_t)sizeof ans) break;
    }
    _exit(0);
}

el_membw_probe *el_membw_probe_start(int threads, size_t bytes, el_err *err)
{
    if (threads < 1 || threads > 1024) return el_errf(err, "membw probe: %d threads out of range [1, 1024]", threads), NULL;
    if (bytes < ((size_t)1 << 20) || bytes > ((size_t)1 << 36))
        return el_errf(err, "membw probe: array of %zu bytes out of range [1 MiB, 64 GiB]", bytes), NULL;
    el_membw_probe *p = calloc(1, sizeof *p);
    int sv[2];
    if (!p || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
        free(p);
        return el_errf(err, "membw probe: cannot create a socket pair: %s", strerror(errno)), NULL;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(sv[0]), close(sv[1]), free(p);
        return el_errf(err, "membw probe: fork failed: %s", strerror(errno)), NULL;
    }
    if (pid == 0) {
        close(sv[0]);
        probe_child(sv[1], threads, bytes);
    }
    close(sv[1]);
    p->pid = pid, p->fd = sv[0], p->threads = threads, p->bytes = bytes;
    return p;
}

int el_membw_probe_read(el_membw_probe *p, int reps, double *gbs, double *huge_share, el_err *err)
{
    if (!p) return el_errf(err, "membw probe: not started");
    if (reps < 1 || reps > 1000) return el_errf(err, "membw probe: repetitions %d out of range [1, 1000]", reps);
    double ans[2];
    if (send(p->fd, &reps, sizeof reps, MSG_NOSIGNAL) != (ssize_t)sizeof reps ||
        recv(p->fd, ans, sizeof ans, MSG_WAITALL) != (ssize_t)sizeof ans || !(ans[0] > 0))
        return el_errf(err, "membw probe: the measuring process (pid %d, %d threads, %.0f MiB) did not answer: it exited or "
                            "could not allocate its array", (int)p->pid, p->threads, (double)p->bytes / 1048576.0);
    *gbs = ans[0];
    if (huge_share) *huge_share = ans[1];
    return 0;
}

void el_membw_probe_stop(el_membw_probe *p)
{
    if (!p) return;
    close(p->fd);   /* EOF: the child leaves its loop */
    int st;
    while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR) {}
    free(p);
}

int el_membw_probe_pid(const el_membw_probe *p) { return p ? (int)p->pid : -1; }
