/* common.c -- error messages, checked allocation, clock. */
#include "edgelm/common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

int el_errf(el_err *err, const char *fmt, ...)
{
    if (!err) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int el_err_prefix(el_err *err, const char *fmt, ...)
{
    if (!err) return -1;
    char prefix[256], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t n = strlen(prefix), cap = sizeof err->msg;
    if (n > cap - 3) n = cap - 3;
    memcpy(err->msg, prefix, n);
    memcpy(err->msg + n, ": ", 2);
    size_t m = strnlen(old, sizeof old);
    if (m > cap - n - 3) m = cap - n - 3;
    memcpy(err->msg + n + 2, old, m);
    err->msg[n + 2 + m] = 0;
    return -1;
}

void *el_malloc(size_t size, el_err *err)
{
    void *p = malloc(size ? size : 1);
    if (!p) el_errf(err, "out of memory allocating %zu bytes", size);
    return p;
}

void *el_calloc(size_t n, size_t size, el_err *err)
{
    if (size && n > SIZE_MAX / size) {
        el_errf(err, "allocation size overflow (%zu x %zu bytes)", n, size);
        return NULL;
    }
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) el_errf(err, "out of memory allocating %zu x %zu bytes", n, size);
    return p;
}

double el_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- memory ceiling ------------------------------------------------------ */

#include <ctype.h>
#include <unistd.h>

int el_parse_size(const char *s, uint64_t *out)
{
    if (!s || !*s) return -1;
    char *end;
    double v = strtod(s, &end);
    if (end == s || !(v >= 0) || v > 1e18) return -1;
    double mul = 1;
    switch (toupper((unsigned char)*end)) {
    case 0: break;
    case 'K': mul = 1024.0; end++; break;
    case 'M': mul = 1024.0 * 1024; end++; break;
    case 'G': mul = 1024.0 * 1024 * 1024; end++; break;
    case 'T': mul = 1024.0 * 1024 * 1024 * 1024; end++; break;
    default: return -1;
    }
    if (toupper((unsigned char)*end) == 'B' || toupper((unsigned char)*end) == 'I') end++;
    if (toupper((unsigned char)*end) == 'B') end++;
    if (*end) return -1;
    *out = (uint64_t)(v * mul);
    return 0;
}

uint64_t el_mem_limit(void)
{
    uint64_t v;
    const char *env = getenv("EL_MAX_MEMORY");
    if (env && el_parse_size(env, &v) == 0 && v > 0) return v;
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    if (pages > 0 && psize > 0) return (uint64_t)pages * (uint64_t)psize;
    return UINT64_MAX;
}

int el_mem_check(uint64_t bytes, const char *what, el_err *err)
{
    uint64_t lim = el_mem_limit();
    if (bytes <= lim) return 0;
    return el_errf(err, "%s needs %.1f MiB, more than the memory ceiling of %.1f MiB (set EL_MAX_MEMORY to change it)",
                   what, (double)bytes / (1 << 20), (double)lim / (1 << 20));
}

/* ---- temporary files removed on SIGINT/SIGTERM --------------------------- */

#include <signal.h>

#define EL_TMP_SLOTS 4
static char g_tmp_paths[EL_TMP_SLOTS][4096];
static volatile sig_atomic_t g_tmp_used[EL_TMP_SLOTS];

int el_tmpfile_register(const char *path)
{
    if (strlen(path) >= sizeof g_tmp_paths[0]) return -1;
    for (int i = 0; i < EL_TMP_SLOTS; i++) {
        if (g_tmp_used[i]) continue;
        strcpy(g_tmp_paths[i], path);
        g_tmp_used[i] = 1;
        return i;
    }
    return -1;
}

void el_tmpfile_unregister(int slot)
{
    if (slot >= 0 && slot < EL_TMP_SLOTS) g_tmp_used[slot] = 0;
}

static void cleanup_and_reraise(int sig)
{
    for (int i = 0; i < EL_TMP_SLOTS; i++)
        if (g_tmp_used[i]) unlink(g_tmp_paths[i]);   /* async-signal-safe */
    signal(sig, SIG_DFL);
    raise(sig);
}

void el_cleanup_on_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = cleanup_and_reraise;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* ---- huge-page buffers ------------------------------------------------- */

#define EL_HUGE ((size_t)2 << 20)

static size_t huge_len(size_t bytes)
{
    size_t len = (bytes + EL_HUGE - 1) & ~(EL_HUGE - 1);
    return len ? len : EL_HUGE;
}

void *el_huge_alloc(size_t bytes, el_err *err)
{
    size_t len = huge_len(bytes);
    if (len < bytes || len + EL_HUGE < len) {
        el_errf(err, "buffer of %zu bytes is too large", bytes);
        return NULL;
    }
    /* one huge page more than needed, then the ends cut to a 2 MiB boundary */
    uint8_t *m = mmap(NULL, len + EL_HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        el_errf(err, "out of memory for a buffer of %.1f MiB", (double)bytes / 1048576.0);
        return NULL;
    }
    uint8_t *p = (uint8_t *)(((uintptr_t)m + EL_HUGE - 1) & ~(uintptr_t)(EL_HUGE - 1));
    if (p > m) munmap(m, (size_t)(p - m));
    size_t tail = (size_t)((m + len + EL_HUGE) - (p + len));
    if (tail) munmap(p + len, tail);
#ifdef MADV_HUGEPAGE
    madvise(p, len, MADV_HUGEPAGE);
#endif
    return p;
}

void el_huge_free(void *p, size_t bytes)
{
    if (p) munmap(p, huge_len(bytes));
}

int64_t el_huge_resident(const void *p, size_t bytes)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) return -1;
    uintptr_t lo = (uintptr_t)p, hi = lo + bytes;
    char line[512];
    int64_t kb = 0;
    bool in = false, any = false;
    while (fgets(line, sizeof line, f)) {
        unsigned long a, b;
        long v;
        if (sscanf(line, "%lx-%lx ", &a, &b) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            in = a < hi && b > lo;   /* a mapping that overlaps the buffer */
            any = any || in;
        } else if (in && sscanf(line, "AnonHugePages: %ld kB", &v) == 1) {
            kb += v;
        }
    }
    fclose(f);
    if (!any) return -1;
    int64_t got = kb * 1024;
    return got > (int64_t)bytes ? (int64_t)bytes : got;
}
