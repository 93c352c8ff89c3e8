/* test_threads.c -- the thread pool hands every item out exactly once, many
 * times in a row (races show up as lost or doubled items), and CPU feature
 * detection agrees with the kernel's own view in /proc/cpuinfo. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgelm/threads.h"

typedef struct {
    _Atomic int *hits;
    _Atomic int64_t sum;
    _Atomic int max_ith;
} pfor_check;

static void count_items(void *arg, int64_t b, int64_t e, int ith)
{
    pfor_check *c = arg;
    int64_t local = 0;
    for (int64_t i = b; i < e; i++) {
        atomic_fetch_add(&c->hits[i], 1);
        local += i + 1;
    }
    atomic_fetch_add(&c->sum, local);
    int m = atomic_load(&c->max_ith);
    while (ith > m && !atomic_compare_exchange_weak(&c->max_ith, &m, ith)) {}
}

static void test_parallel_for_each_item_once(void **state)
{
    (void)state;
    for (int nth = 1; nth <= 4; nth++) {
        el_err err;
        el_threads *tp = el_threads_new(nth, &err);
        assert_non_null(tp);
        assert_int_equal(el_threads_count(tp), nth);
        const int64_t sizes[] = {1, 2, 3, 7, 64, 1000, 4097};
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            int64_t n = sizes[s];
            _Atomic int *hits = calloc((size_t)n, sizeof *hits);
            assert_non_null(hits);
            for (int rep = 0; rep < 50; rep++) {
                pfor_check c = {.hits = hits};
                atomic_init(&c.sum, 0);
                atomic_init(&c.max_ith, 0);
                el_parallel_for(tp, n, rep % 3 == 0 ? 0 : 1 + rep % 5, count_items, &c);
                assert_int_equal(atomic_load(&c.sum), n * (n + 1) / 2);   /* analytic */
                assert_true(atomic_load(&c.max_ith) < nth);
            }
            for (int64_t i = 0; i < n; i++) assert_int_equal(atomic_load(&hits[i]), 50);
            free(hits);
        }
        el_threads_free(tp);
    }
}

static void mark_thread(void *arg, int ith, int nth)
{
    _Atomic int *seen = arg;
    assert_true(ith >= 0 && ith < nth);
    atomic_fetch_add(&seen[ith], 1);
}

static void test_run_reaches_every_thread(void **state)
{
    (void)state;
    el_err err;
    el_threads *tp = el_threads_new(3, &err);
    assert_non_null(tp);
    _Atomic int seen[3] = {0};
    for (int i = 0; i < 5000; i++) el_threads_run(tp, mark_thread, seen);
    for (int i = 0; i < 3; i++) assert_int_equal(atomic_load(&seen[i]), 5000);
    el_threads_free(tp);
    /* a NULL pool runs on the caller */
    _Atomic int one[1] = {0};
    el_threads_run(NULL, mark_thread, one);
    assert_int_equal(atomic_load(&one[0]), 1);
    assert_null(el_threads_new(0, &err));
    assert_non_null(strstr(err.msg, "thread count 0"));
}

/* after the workers went to sleep (spin phase over), they still wake up */
static void test_wakes_after_sleep(void **state)
{
    (void)state;
    el_err err;
    el_threads *tp = el_threads_new(2, &err);
    assert_non_null(tp);
    _Atomic int seen[2] = {0};
    for (int i = 0; i < 3; i++) {
        struct timespec ts = {0, 60 * 1000 * 1000};
        nanosleep(&ts, NULL);
        el_threads_run(tp, mark_thread, seen);
    }
    assert_int_equal(atomic_load(&seen[1]), 3);
    el_threads_free(tp);
}

static bool cpuinfo_has(const char *flag)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return false;
    char line[8192];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) && strncmp(line, "Features", 8)) continue;
        char *p = strchr(line, ':');
        for (char *tok = strtok(p ? p + 1 : line, " \t\n"); tok; tok = strtok(NULL, " \t\n"))
            if (strcmp(tok, flag) == 0) found = true;
        break;
    }
    fclose(f);
    return found;
}

static void test_cpu_features_match_proc(void **state)
{
    (void)state;
    const el_cpu_features *f = el_cpu();
    printf("# cpu: %s, physical cores %d\n", el_cpu_describe(), el_physical_cores());
    assert_true(el_physical_cores() >= 1);
#if defined(__x86_64__)
    assert_int_equal(f->avx2, cpuinfo_has("avx2"));
    assert_int_equal(f->fma, cpuinfo_has("fma"));
    assert_int_equal(f->f16c, cpuinfo_has("f16c"));
    assert_int_equal(f->avx512f, cpuinfo_has("avx512f"));
    assert_int_equal(f->avx512bw, cpuinfo_has("avx512bw"));
    assert_int_equal(f->avx512vl, cpuinfo_has("avx512vl"));
    assert_int_equal(f->avx512vnni, cpuinfo_has("avx512_vnni"));
    assert_int_equal(f->avx512bf16, cpuinfo_has("avx512_bf16"));
#elif defined(__aarch64__)
    assert_true(f->neon);
    if (cpuinfo_has("asimddp")) assert_true(f->neon_dotprod);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parallel_for_each_item_once),
        cmocka_unit_test(test_run_reaches_every_thread),
        cmocka_unit_test(test_wakes_after_sleep),
        cmocka_unit_test(test_cpu_features_match_proc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
