/* test_membw.c -- the bandwidth test runs, reports plausible numbers, and its
 * command rejects bad input. (Speed itself is judged by benchmarks, not here.) */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgelm/bench.h"
#include "testutil.h"

static void test_membw_small(void **state)
{
    (void)state;
    el_err err;
    el_threads *tp = el_threads_new(2, &err);
    assert_non_null(tp);
    el_membw_result r;
    assert_int_equal(el_membw(tp, 4 << 20, 2, &r, &err), 0);
    printf("# 4 MiB arrays, 2 threads: copy %.1f triad %.1f read %.1f GB/s (measured)\n", r.copy, r.triad, r.read);
    /* physically plausible: more than a floppy disk, less than any real cache */
    assert_true(r.copy > 0.1 && r.copy < 10000);
    assert_true(r.read > 0.1 && r.read < 10000);
    assert_int_equal(r.threads, 2);
    assert_int_equal(r.array_bytes, 4 << 20);
    assert_int_equal(el_membw(tp, 100, 2, &r, &err), -1);
    assert_non_null(strstr(err.msg, "array size"));
    el_threads_free(tp);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_membw_small),
        cmocka_unit_test(test_membw_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
