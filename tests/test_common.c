/* test_common.c -- error helpers, size parsing and the memory ceiling. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "edgelm/common.h"

static void test_parse_size(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(el_parse_size("123", &v), 0);
    assert_int_equal(v, 123);
    assert_int_equal(el_parse_size("64k", &v), 0);
    assert_int_equal(v, 65536);
    assert_int_equal(el_parse_size("1.5G", &v), 0);
    assert_int_equal(v, 1610612736ull);
    assert_int_equal(el_parse_size("512MiB", &v), 0);
    assert_int_equal(v, 536870912ull);
    assert_int_equal(el_parse_size("2GB", &v), 0);
    assert_int_equal(v, 2147483648ull);
    assert_int_equal(el_parse_size("", &v), -1);
    assert_int_equal(el_parse_size("12Q", &v), -1);
    assert_int_equal(el_parse_size("-5", &v), -1);
    assert_int_equal(el_parse_size("nan", &v), -1);
    assert_int_equal(el_parse_size("1e30", &v), -1);
}

static void test_mem_ceiling(void **state)
{
    (void)state;
    el_err err;
    setenv("EL_MAX_MEMORY", "1M", 1);
    assert_int_equal(el_mem_limit(), 1 << 20);
    assert_int_equal(el_mem_check(1 << 20, "KV cache", &err), 0);
    assert_int_equal(el_mem_check((1 << 20) + 1, "KV cache", &err), -1);
    assert_non_null(strstr(err.msg, "KV cache needs 1.0 MiB"));
    assert_non_null(strstr(err.msg, "EL_MAX_MEMORY"));
    unsetenv("EL_MAX_MEMORY");
    assert_true(el_mem_limit() > (1ull << 26));   /* physical memory of any machine that runs this */
}

static void test_err_prefix_truncates(void **state)
{
    (void)state;
    el_err err;
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    el_errf(&err, "%s", big);
    assert_int_equal(strlen(err.msg), sizeof err.msg - 1);
    el_errf(&err, "inner");
    el_err_prefix(&err, "file.gguf");
    assert_string_equal(err.msg, "file.gguf: inner");
    assert_null(el_calloc(SIZE_MAX / 2, 4, &err));
    assert_non_null(strstr(err.msg, "overflow"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_size),
        cmocka_unit_test(test_mem_ceiling),
        cmocka_unit_test(test_err_prefix_truncates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
