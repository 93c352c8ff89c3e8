/* test_membw.c -- the bandwidth test runs, reports plausible numbers, and its
 * command rejects bad input. (Speed itself is judged by benchmarks, not here.) */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_membw_small),
        cmocka_unit_test(test_huge_alloc),
        cmocka_unit_test(test_membw_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
