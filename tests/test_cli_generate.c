/* test_cli_generate.c -- `edgelm generate` end to end, and its input checks. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static char *model(void) { return tu_shared("data/models/stories260K.gguf"); }

static int run(const char *args, char **out, char **err)
{
    char *m = model();
    char cmd[4096];
    snprintf(cmd, sizeof cmd, EL_BIN " generate -m %s %s", m, args);
    free(m);
    return tu_run(cmd, out, err);
}

static void test_lily(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    assert_int_equal(run("-p \"Once upon a time\" --temp 0 -n 16", &out, &err), 0);
    printf("# stdout: %s", out);
    printf("# stderr: %s", err);
    assert_non_null(strstr(out, "Once upon a time, there was a little girl named Lily."));
    assert_non_null(strstr(err, "prompt: 5 tokens"));
    assert_non_null(strstr(err, "generation: 16 tokens"));
    assert_non_null(strstr(err, "t/s"));
    free(out), free(err);
}

static void test_same_seed_same_text(void **state)
{
    (void)state;
    char *a = NULL, *b = NULL, *c = NULL, *e = NULL;
    assert_int_equal(run("-p \"The cat\" --temp 1.0 --seed 7 -n 24", &a, &e), 0);
    free(e);
    assert_int_equal(run("-p \"The cat\" --temp 1.0 --seed 7 -n 24", &b, &e), 0);
    free(e);
    assert_int_equal(run("-p \"The cat\" --temp 1.0 --seed 8 -n 24 --top-k 0 --top-p 1 --min-p 0", &c, &e), 0);
    free(e);
    assert_string_equal(a, b);
    assert_true(strcmp(a, c) != 0);
    free(a), free(b), free(c);
}

static void test_bad_input(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    assert_int_equal(tu_run(EL_BIN " generate --help", &out, &err), 0);
    assert_non_null(strstr(out, "usage: edgelm generate"));
    free(out), free(err);
    assert_int_equal(run("-p hi --bogus", &out, &err), 2);
    assert_non_null(strstr(err, "--bogus"));
    free(out), free(err);
    assert_int_equal(run("-p hi -n abc", &out, &err), 2);
    assert_non_null(strstr(err, "-n"));
    free(out), free(err);
    assert_int_equal(run("-p hi --temp -1", &out, &err), 2);
    assert_non_null(strstr(err, "--temp"));
    free(out), free(err);
    assert_int_equal(run("", &out, &err), 2);
    assert_non_null(strstr(err, "-p"));
    free(out), free(err);
    assert_int_equal(tu_run(EL_BIN " generate -m /nonexistent.gguf -p hi", &out, &err), 1);
    assert_non_null(strstr(err, "/nonexistent.gguf"));
    free(out), free(err);
    assert_int_equal(run("-p \"Once upon a time\" -c 3", &out, &err), 2);
    assert_non_null(strstr(err, "context"));
    free(out), free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lily),
        cmocka_unit_test(test_same_seed_same_text),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
