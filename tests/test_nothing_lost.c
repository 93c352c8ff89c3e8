/* test_nothing_lost.c -- killing a command at a random moment (SIGINT,
 * SIGTERM, SIGKILL) loses nothing:
 *  - a model-writing command never leaves a truncated GGUF under the output
 *    name: the output is either the previous file, untouched, or the complete
 *    new one; after SIGINT/SIGTERM no temporary file is left either;
 *  - a sweep leaves a JSONL whose every line is a complete, valid record, and
 *    after SIGINT/SIGTERM the last record says the run is incomplete. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include <cjson/cJSON.h>

#include "edgelm/gguf.h"
#include "edgelm/runfile.h"
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


/* Kill `edgelm sweep` at random moments: every line written is a complete JSON
 * record, the reader accepts the file, and SIGINT/SIGTERM end it with an
 * {"type":"end","complete":false} record. */
static void test_kill_sweep_at_random_moments(void **state)
{
    (void)state;
    char *model = tu_shared("data/models/stories260K.gguf");
    char *corpus = tu_shared("data/text/tinystories-valid-sample.txt");
    char *out = tu_tmp("nl-sweep.jsonl");
    if (!tu_file_exists(model)) skip();
    srand(4242);
    const int sigs[] = {SIGINT, SIGTERM, SIGKILL};
    int total_meas = 0;
    for (int round = 0; round < 9; round++) {
        int sig = sigs[round % 3];
        unlink(out);
        char *argv[] = {EL_BIN, "sweep", "llm", "-m", model, "-f", corpus, "-o", out, "--tokens", "16,64,128",
                        "--repeat", "50", "--gen", "4", "--idle", "0.3", "--pause", "0.02", "--hz", "50",
                        "-t", "1", "--no-trace", "-q", NULL};
        pid_t pid = spawn(argv);
        assert_true(pid > 0);
        /* the run starts writing after loading the model, reading the corpus
         * and a warm-up (slow under a sanitizer): wait for its header line,
         * then kill it at a random moment of the measurements */
        struct stat sst;
        for (int w = 0; w < 1200 && !(stat(out, &sst) == 0 && sst.st_size > 0); w++) {
            struct timespec p = {0, 50000000};
            nanosleep(&p, NULL);
        }
        double delay = 0.1 + 2.0 * rand() / (double)RAND_MAX;
        struct timespec ts = {(time_t)delay, (long)((delay - (time_t)delay) * 1e9)};
        nanosleep(&ts, NULL);
        kill(pid, sig);
        int status;
        waitpid(pid, &status, 0);
        if (sig == SIGKILL) assert_true(WIFSIGNALED(status));
        else {
            assert_true(WIFEXITED(status));
            assert_int_equal(WEXITSTATUS(status), 128 + sig);
        }
        size_t len;
        char *text = tu_read_file(out, &len);
        assert_non_null(text);
        /* every line complete and valid JSON */
        int lines = 0;
        char *save = NULL, *last = NULL;
        assert_true(len > 0 && text[len - 1] == '\n');
        char *copy = strdup(text);
        for (char *ln = strtok_r(copy, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
            cJSON *j = cJSON_Parse(ln);
            if (!j) fail_msg("round %d (signal %d after %.2f s): line %d is not valid JSON: %.80s", round, sig, delay,
                             lines + 1, ln);
            cJSON_Delete(j);
            last = ln;
            lines++;
        }
        assert_true(lines >= 1);
        el_run run;
        el_err err;
        if (el_run_parse(text, len, out, &run, &err) != 0) fail_msg("round %d: reader refused: %s", round, err.msg);
        assert_false(run.dropped_tail);
        assert_non_null(run.header);
        if (sig != SIGKILL) {
            cJSON *e = cJSON_Parse(last);
            assert_non_null(e);
            assert_string_equal(cJSON_GetObjectItem(e, "type")->valuestring, "end");
            assert_true(cJSON_IsFalse(cJSON_GetObjectItem(e, "complete")));
            assert_int_equal((int)cJSON_GetObjectItem(e, "measurements")->valuedouble, run.n_meas);
            cJSON_Delete(e);
            assert_false(run.complete);
        } else {
            assert_null(run.end);
        }
        total_meas += run.n_meas;
        el_run_free(&run);
        free(copy);
        free(text);
    }
    printf("# 9 sweep kills: %d measurements kept in all, every line valid\n", total_meas);
    unlink(out);
    free(model), free(corpus), free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_quantize_at_random_moments),
        cmocka_unit_test(test_kill_sweep_at_random_moments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
