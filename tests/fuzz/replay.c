/* replay.c -- run a fuzz target over files and directories of inputs.
 * usage: replay_fuzz_X PATH...   (prints "N passed, 0 failed" at the end;
 * a crash aborts the process, which ctest reports as a failure) */
#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static long n_run;

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(sz > 0 ? (size_t)sz : 1);
    if (!buf) {
        fclose(f);
        return -1;
    }
    size_t n = fread(buf, 1, (size_t)(sz > 0 ? sz : 0), f);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, n);
    free(buf);
    n_run++;
    return 0;
}

static int run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: no such file or directory: %s\n", path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) return run_file(path);
    DIR *d = opendir(path);
    if (!d) return -1;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        char *p = malloc(len);
        if (!p) break;
        snprintf(p, len, "%s/%s", path, e->d_name);
        rc |= run_path(p);
        free(p);
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = 0;
    // the empty input, always (libFuzzer tries it first too; an empty seed
    // file would only repeat it)
    static const uint8_t none[1];
    LLVMFuzzerTestOneInput(none, 0);
    n_run++;
    for (int i = 1; i < argc; i++) rc |= run_path(argv[i]);
    printf("replayed %ld inputs without a crash\n", n_run);
    printf("%ld passed, %d failed\n", n_run, rc ? 1 : 0);
    return rc ? 1 : 0;
}
