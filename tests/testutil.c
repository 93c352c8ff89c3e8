#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

char *tu_fmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = malloc((size_t)n + 1);
    if (!s) abort();
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

char *tu_shared(const char *rel) { return tu_fmt("%s/%s", EL_SHARED_DIR, rel); }

char *tu_tmp(const char *name)
{
    mkdir(EL_TEST_TMP, 0755);
    return tu_fmt("%s/%s", EL_TEST_TMP, name);
}

char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) abort();
    for (;;) {
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (n < cap) break;
        cap *= 2;
        buf = realloc(buf, cap + 1);
        if (!buf) abort();
    }
    fclose(f);
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

int tu_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, len, f);
    return (fclose(f) == 0 && w == len) ? 0 : -1;
}

int tu_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

size_t tu_parse_ints(const char *text, int32_t **out)
{
    size_t cap = 64, n = 0;
    int32_t *v = malloc(cap * sizeof *v);
    if (!v) abort();
    const char *p = text;
    char *end;
    for (;;) {
        while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
        if (!*p) break;
        long x = strtol(p, &end, 10);
        if (end == p) break;
        if (n == cap) {
            cap *= 2;
            v = realloc(v, cap * sizeof *v);
            if (!v) abort();
        }
        v[n++] = (int32_t)x;
        p = end;
    }
    *out = v;
    return n;
}

int tu_run(const char *cmd, char **out, char **err)
{
    char *fo = tu_tmp("tu_run.XXXXXX");
    char *fe = tu_tmp("tu_run.XXXXXX");
    int a = mkstemp(fo), b = mkstemp(fe);
    if (a < 0 || b < 0) return -1;
    close(a);
    close(b);
    char *full = tu_fmt("%s </dev/null >'%s' 2>'%s'", cmd, fo, fe);
    int st = system(full);
    free(full);
    int rc;
    if (st == -1) rc = -1;
    else if (WIFEXITED(st)) rc = WEXITSTATUS(st);
    else if (WIFSIGNALED(st)) rc = 128 + WTERMSIG(st);
    else rc = -1;
    if (out) *out = tu_read_file(fo, NULL);
    if (err) *err = tu_read_file(fe, NULL);
    unlink(fo);
    unlink(fe);
    free(fo);
    free(fe);
    return rc;
}
