/* test_membw.c -- the bandwidth test and the probe `edgelm bench` measures
 * with run, report plausible numbers, fail cleanly when the probe dies, and
 * their commands reject bad input. (Speed itself is judged by benchmarks, not
 * here.) */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "edgelm/bench.h"
#include "testutil.h"

static void test_membw_small(void **state)
{
    (void)state;
    el_err err;
    el_threads *tp = el_threads_new(2, &err);
    assert_non_null(tp);
    el_membw_result r;
    assert_int_equal(el_membw(tp, 4 << 20, 2, false, &r, &err), 0);
    printf("# 4 MiB arrays, 2 threads: copy %.1f triad %.1f read %.1f GB/s (measured)\n", r.copy, r.triad, r.read);
    /* physically plausible: more than a floppy disk, less than any real cache */
    assert_true(r.copy > 0.1 && r.copy < 10000);
    assert_true(r.read > 0.1 && r.read < 10000);
    assert_int_equal(r.threads, 2);
    assert_int_equal(r.array_bytes, 4 << 20);
    /* the arrays were asked for huge pages: a share of them, or unknown */
    assert_true(r.huge_share == -1 || (r.huge_share >= 0 && r.huge_share <= 1));
    /* with 4 KiB pages asked (MADV_NOHUGEPAGE), none of them may be in huge pages */
    assert_int_equal(el_membw(tp, 4 << 20, 1, true, &r, &err), 0);
    assert_true(r.small_pages);
    assert_true(r.huge_share == -1 || r.huge_share == 0);
    assert_int_equal(el_membw(tp, 100, 2, false, &r, &err), -1);
    assert_non_null(strstr(err.msg, "array size"));
    el_threads_free(tp);
}

/* el_huge_alloc: 2 MiB aligned, writable to the last byte; what smaps says
 * sits in huge pages is whole 2 MiB pages (or all of the buffer, as the count
 * is capped at its size), and none when the kernel's transparent huge pages
 * are off. */
static void test_huge_alloc(void **state)
{
    (void)state;
    el_err err;
    size_t bytes = (size_t)5 << 20;
    unsigned char *p = el_huge_alloc(bytes, &err);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % (2u << 20), 0);
    memset(p, 0x5a, bytes);
    assert_int_equal(p[bytes - 1], 0x5a);
    int64_t h = el_huge_resident(p, bytes);
    printf("# 5 MiB buffer: %lld bytes in huge pages (measured)\n", (long long)h);
    assert_true(h == -1 || (h >= 0 && h <= (int64_t)bytes && (h % (2 << 20) == 0 || h == (int64_t)bytes)));
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (f) {
        char mode[128] = "";
        if (fgets(mode, sizeof mode, f) && strstr(mode, "[never]")) assert_true(h <= 0);
        fclose(f);
    }
    el_huge_free(p, bytes);
    /* memory that is not ours to ask about */
    assert_int_equal(el_huge_resident((const void *)(uintptr_t)16, 4096), -1);
}

static void test_membw_cli(void **state)
{
    (void)state;
    char *out = NULL, *errs = NULL;
    assert_int_equal(tu_run(EL_BIN " membw --help", &out, &errs), 0);
    assert_non_null(strstr(out, "usage: edgelm membw"));
    free(out), free(errs);
    assert_int_equal(tu_run(EL_BIN " membw --size abc", &out, &errs), 2);
    assert_non_null(strstr(errs, "--size"));
    free(out), free(errs);
    assert_int_equal(tu_run(EL_BIN " membw --bogus", &out, &errs), 2);
    assert_non_null(strstr(errs, "--bogus"));
    free(out), free(errs);
    assert_int_equal(tu_run(EL_BIN " membw --size 8 -r 1 --json", &out, &errs), 0);
    assert_non_null(strstr(out, "\"read\""));
    free(out), free(errs);
}

/* the probe answers, answers again, and a probe whose process was killed is an error, not a crash */
static void test_membw_probe(void **state)
{
    (void)state;
    el_err err;
    el_membw_probe *p = el_membw_probe_start(2, (size_t)8 << 20, &err);
    assert_non_null(p);
    double a = 0, b = 0, huge = -2;
    assert_int_equal(el_membw_probe_read(p, 2, &a, &huge, &err), 0);
    assert_int_equal(el_membw_probe_read(p, 1, &b, NULL, &err), 0);
    printf("# probe, 8 MiB, 2 threads: %.1f then %.1f GB/s (measured), %.0f%% in huge pages\n", a, b, 100 * huge);
    assert_true(a > 0.1 && a < 10000 && b > 0.1 && b < 10000);
    assert_true(huge == -1 || (huge >= 0 && huge <= 1));
    assert_int_equal(el_membw_probe_read(p, 0, &a, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "repetitions"));
    el_membw_probe_stop(p);
    /* sizes out of range */
    assert_null(el_membw_probe_start(2, 100, &err));
    assert_non_null(strstr(err.msg, "out of range"));
    assert_null(el_membw_probe_start(0, (size_t)8 << 20, &err));
    /* the measuring process dies: the next reading says so */
    p = el_membw_probe_start(1, (size_t)4 << 20, &err);
    assert_non_null(p);
    assert_int_equal(el_membw_probe_read(p, 1, &a, NULL, &err), 0);
    assert_int_equal(kill(el_membw_probe_pid(p), SIGKILL), 0);
    assert_int_equal(el_membw_probe_read(p, 1, &a, NULL, &err), -1);
    printf("# killed probe: %s\n", err.msg);
    assert_non_null(strstr(err.msg, "did not answer"));
    el_membw_probe_stop(p);
}

/* `edgelm bench` on the one real model: llama-bench's fields, a roofline
 * against bandwidth measured around each repetition, and clear errors */
static void test_bench_cli(void **state)
{
    (void)state;
    char *model = tu_shared("data/models/stories260K.gguf"), *out = NULL, *errs = NULL;
    char *cmd = tu_fmt("%s bench -m '%s' -p 16 -n 8 -r 3 -t 2 -o json", EL_BIN, model);
    assert_int_equal(tu_run(cmd, &out, &errs), 0);
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    assert_int_equal(cJSON_GetArraySize(j), 2);
    cJSON *pp = cJSON_GetArrayItem(j, 0), *tg = cJSON_GetArrayItem(j, 1);
    assert_string_equal(cJSON_GetObjectItem(pp, "test")->valuestring, "pp16");
    assert_string_equal(cJSON_GetObjectItem(tg, "test")->valuestring, "tg8");
    assert_null(cJSON_GetObjectItem(pp, "roofline_share"));
    assert_true(cJSON_GetObjectItem(tg, "avg_ts")->valuedouble > 0);
    cJSON *bw = cJSON_GetObjectItem(tg, "membw_samples_gbs");
    assert_non_null(bw);
    assert_int_equal(cJSON_GetArraySize(bw), 3);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(tg, "samples_ts")), 3);
    /* K/V rows read per token, from the file's shape (5 layers, 4 KV heads of
     * 8, F16): 640 bytes a position, tokens 0..7 attend 4.5 positions on average */
    assert_true(fabs(cJSON_GetObjectItem(tg, "kv_bytes_per_token")->valuedouble - 640 * 4.5) < 1e-9);
    assert_int_equal(cJSON_GetObjectItem(tg, "n_depth")->valueint, 0);
    /* each repetition's share, averaged, is what the row says */
    double share = 0, bpt = cJSON_GetObjectItem(tg, "bytes_per_token")->valuedouble + 640 * 4.5;
    for (int i = 0; i < 3; i++)
        share += bpt * cJSON_GetArrayItem(cJSON_GetObjectItem(tg, "samples_ts"), i)->valuedouble /
                 (cJSON_GetArrayItem(bw, i)->valuedouble * 1e9) / 3;
    double got = cJSON_GetObjectItem(tg, "roofline_share")->valuedouble;
    printf("# bench stories260K tg8: %.1f t/s, roofline %.4f%% against %.1f GB/s (measured)\n",
           cJSON_GetObjectItem(tg, "avg_ts")->valuedouble, 100 * got, cJSON_GetObjectItem(tg, "membw_read_gbs")->valuedouble);
    assert_true(fabs(share - got) <= 1e-9 + 1e-6 * got);
    assert_true(got > 0);   /* (a 1 MB model is read from cache: it may pass 100%) */
    cJSON_Delete(j);
    free(out), free(errs), free(cmd);
    /* -d: the cache holds that many tokens before each test, named as llama-bench names it */
    cmd = tu_fmt("%s bench -m '%s' -p 4 -n 4 -d 0,8 -r 2 -t 2 --membw 10 -o json", EL_BIN, model);
    assert_int_equal(tu_run(cmd, &out, &errs), 0);
    assert_non_null(j = cJSON_Parse(out));
    assert_int_equal(cJSON_GetArraySize(j), 4);
    const char *names[] = {"pp4", "pp4 @ d8", "tg4", "tg4 @ d8"};
    for (int i = 0; i < 4; i++) {
        cJSON *row = cJSON_GetArrayItem(j, i);
        assert_string_equal(cJSON_GetObjectItem(row, "test")->valuestring, names[i]);
        assert_int_equal(cJSON_GetObjectItem(row, "n_depth")->valueint, i % 2 ? 8 : 0);
        assert_true(cJSON_GetObjectItem(row, "avg_ts")->valuedouble > 0);
    }
    /* tokens 8..11 attend 10.5 positions on average */
    assert_true(fabs(cJSON_GetObjectItem(cJSON_GetArrayItem(j, 3), "kv_bytes_per_token")->valuedouble - 640 * 10.5) < 1e-9);
    cJSON_Delete(j);
    free(out), free(errs), free(cmd);
    /* a given bandwidth is used as it is */
    cmd = tu_fmt("%s bench -m '%s' -p 0 -n 4 -r 1 -t 1 --membw 10", EL_BIN, model);
    assert_int_equal(tu_run(cmd, &out, &errs), 0);
    assert_non_null(strstr(out, "read bandwidth 10.0 GB/s (given)"));
    free(out), free(errs), free(cmd);
    const char *bad[][2] = {{"-o bogus", "unknown format"}, {"-r 0", "-r"}, {"-n x", "-n"}, {"--bogus", "--bogus"}, {"-d -1", "-d"}};
    for (int i = 0; i < 5; i++) {
        cmd = tu_fmt("%s bench -m '%s' %s", EL_BIN, model, bad[i][0]);
        assert_int_equal(tu_run(cmd, &out, &errs), 2);
        assert_non_null(strstr(errs, bad[i][1]));
        free(out), free(errs), free(cmd);
    }
    cmd = tu_fmt("%s bench -m /nonexistent.gguf -p 0 -n 2 -r 1", EL_BIN);
    assert_int_equal(tu_run(cmd, &out, &errs), 1);
    assert_non_null(strstr(errs, "/nonexistent.gguf"));
    free(out), free(errs), free(cmd);
    free(model);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_membw_small),
        cmocka_unit_test(test_huge_alloc),
        cmocka_unit_test(test_membw_cli),
        cmocka_unit_test(test_membw_probe),
        cmocka_unit_test(test_bench_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
