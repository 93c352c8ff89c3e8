/* args.c -- flag parsing helpers shared by the subcommands. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool cli_is(const char *arg, const char *a, const char *b)
{
    return (a && strcmp(arg, a) == 0) || (b && strcmp(arg, b) == 0);
}

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "edgelm %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

const char *cli_value(const char *cmd, int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        cli_error(cmd, "option '%s' needs a value (see 'edgelm %s --help')", argv[*i], cmd);
        return NULL;
    }
    (*i)++;
    return argv[*i];
}

int cli_int(const char *cmd, const char *flag, const char *val, long long lo, long long hi,
            long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(val, &end, 10);
    if (errno || end == val || *end != 0 || v < lo || v > hi) {
        cli_error(cmd, "option '%s' expects an integer in [%lld, %lld], got '%s'", flag, lo, hi,
                  val);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_float(const char *cmd, const char *flag, const char *val, double lo, double hi,
              double *out)
{
    char *end;
    errno = 0;
    double v = strtod(val, &end);
    if (errno || end == val || *end != 0 || !isfinite(v) || v < lo || v > hi) {
        cli_error(cmd, "option '%s' expects a number in [%g, %g], got '%s'", flag, lo, hi, val);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_unknown(const char *cmd, const char *arg)
{
    cli_error(cmd, "unknown option '%s' (see 'edgelm %s --help')", arg, cmd);
    return 2;
}

int cli_missing(const char *cmd, const char *what)
{
    cli_error(cmd, "missing required %s (see 'edgelm %s --help')", what, cmd);
    return 2;
}

int cli_default_threads(void)
{
    /* physical cores: count distinct (physical id, core id) pairs */
    FILE *f = fopen("/proc/cpuinfo", "r");
    int n = 0;
    if (f) {
        char line[256];
        int phys = 0;
        long seen[1024];
        int nseen = 0;
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "physical id", 11) == 0) phys = atoi(strchr(line, ':') + 1);
            else if (strncmp(line, "core id", 7) == 0) {
                long key = (long)phys * 100000 + atol(strchr(line, ':') + 1);
                int dup = 0;
                for (int k = 0; k < nseen; k++) dup |= seen[k] == key;
                if (!dup && nseen < 1024) seen[nseen++] = key;
            }
        }
        fclose(f);
        n = nseen;
    }
    if (n <= 0) n = (int)sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}
