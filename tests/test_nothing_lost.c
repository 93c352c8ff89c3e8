/* test_nothing_lost.c -- killing a model-writing command at a random moment
 * (SIGINT, SIGTERM, SIGKILL) never leaves a truncated GGUF under the output
 * name: the output is either the previous file, untouched, or the complete
 * new one; after SIGINT/SIGTERM no temporary file is left either. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "edgelm/gguf.h"
#include "testutil.h"

static pid_t spawn(char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) dup2(devnull, 2), dup2(devnull, 1);
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static int count_tmp_files(const char *dir, const char *stem)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strncmp(e->d_name, stem, strlen(stem)) == 0 && strstr(e->d_name, ".tmp.")) n++;
    if (d) closedir(d);
    return n;
}

static void remove_tmp_files(const char *dir, const char *stem)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4096];
    while (d && (e = readdir(d)))
        if (strncmp(e->d_name, stem, strlen(stem)) == 0 && strstr(e->d_name, ".tmp.")) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    if (d) closedir(d);
}

static void test_kill_quantize_at_random_moments(void **state)
{
    (void)state;
    char *src = tu_tmp("nl-src.gguf"), *old = tu_tmp("nl-old.gguf"), *out = tu_tmp("nl-out.gguf");
    char *dir = tu_tmp("");
    char cmd[2048], *o = NULL, *e = NULL;
    snprintf(cmd, sizeof cmd, EL_BIN " synth --like smollm2-135m --type f16 --layers 12 -o %s", src);
    assert_int_equal(tu_run(cmd, &o, &e), 0);
    free(o), free(e);
    snprintf(cmd, sizeof cmd, EL_BIN " synth --like smollm2-135m --type q8_0 --layers 1 -o %s", old);
    assert_int_equal(tu_run(cmd, &o, &e), 0);
    free(o), free(e);
    size_t old_len;
    char *old_bytes = tu_read_file(old, &old_len);
    assert_non_null(old_bytes);

    /* how long a full run takes, to spread the kills over it */
    double t0 = el_now();
    snprintf(cmd, sizeof cmd, EL_BIN " quantize -q -t 1 %s %s q4_k_m", src, out);
    assert_int_equal(tu_run(cmd, &o, &e), 0);
    free(o), free(e);
    double full = el_now() - t0;
    printf("# full quantize run: %.2f s\n", full);

    srand(12345);
    const int sigs[] = {SIGINT, SIGTERM, SIGKILL};
    int n_old = 0, n_new = 0;
    for (int round = 0; round < 12; round++) {
        int sig = sigs[round % 3];
        assert_int_equal(tu_write_file(out, old_bytes, old_len), 0);
        char *argv[] = {EL_BIN, "quantize", "-q", "-t", "1", src, out, "q4_k_m", NULL};
        pid_t pid = spawn(argv);
        assert_true(pid > 0);
        double delay = full * (0.05 + 0.9 * rand() / (double)RAND_MAX);
        struct timespec ts = {(time_t)delay, (long)((delay - (time_t)delay) * 1e9)};
        nanosleep(&ts, NULL);
        kill(pid, sig);
        int status;
        waitpid(pid, &status, 0);
        size_t len;
        char *now = tu_read_file(out, &len);
        assert_non_null(now);   /* the output name never disappears */
        if (len == old_len && memcmp(now, old_bytes, len) == 0) {
            n_old++;
        } else {
            el_err err;
            el_gguf *g = el_gguf_open(out, &err);
            if (!g) fail_msg("round %d (signal %d after %.2f s): output is neither old nor valid: %s", round, sig, delay, err.msg);
            assert_int_equal(g->n_tensors, 12 * 9 + 2);
            el_gguf_close(g);
            n_new++;
        }
        free(now);
        if (sig != SIGKILL && count_tmp_files(dir, "nl-out.gguf") != 0)
            fail_msg("round %d: signal %d left a temporary file behind", round, sig);
        remove_tmp_files(dir, "nl-out.gguf");   /* SIGKILL cannot clean up after itself */
    }
    printf("# 12 kills: output was the old file %d times, the complete new file %d times, never truncated\n", n_old, n_new);
    free(old_bytes);
    free(src), free(old), free(out), free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_quantize_at_random_moments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
