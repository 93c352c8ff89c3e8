/* test_hostile.c -- malformed GGUF files must be refused cleanly.
 *
 * Every case of tests/fuzz/gguf_cases.h is written to the scratch directory
 * and given to `edgelm info`: the exit status must be non-zero and not a
 * signal, stderr exactly one line naming the file and the problem. The same
 * bytes are also opened in-process from an exact-size heap buffer (so ASan
 * sees any over-read). Then every truncation prefix of the valid model must
 * fail, and only the full file open. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edgelm/gguf.h"
#include "fuzz/gguf_cases.h"

static int count_lines(const char *s)
{
    int n = 0;
    for (; s && *s; s++) n += *s == '\n';
    return n;
}

/* In-process: open from memory, then the architecture check. Returns 0 if
 * both accept, else -1 with err set. */
static int open_and_check(const uint8_t *bytes, size_t n, const char *name, el_err *err)
{
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    if (n) memcpy(copy, bytes, n);
    el_gguf *g = el_gguf_open_memory(copy, n, name, err);
    int rc = -1;
    if (g) {
        rc = el_gguf_check_arch(g, err);
        el_gguf_close(g);
    }
    free(copy);
    return rc;
}

static void test_valid_model_opens(void **state)
{
    (void)state;
    gc_opts variants[3] = {gc_default(), gc_default(), gc_default()};
    variants[1].version = 2;
    variants[2].alignment = 64;
    variants[2].out_off = 192;
    variants[2].trailing_pad = 17;
    for (int v = 0; v < 3; v++) {
        gc_buf b = {0};
        gc_llama(&b, variants[v]);
        char *stem = tu_fmt("valid_%d.gguf", v);
        char *path = tu_tmp(stem);
        free(stem);
        assert_int_equal(tu_write_file(path, b.p, b.n), 0);
        char *out = NULL, *err = NULL;
        char *cmd = tu_fmt("'%s' info '%s'", EL_BIN, path);
        int rc = tu_run(cmd, &out, &err);
        printf("valid variant %d (%zu bytes): exit %d, stderr '%s'\n", v, b.n, rc, err ? err : "");
        assert_int_equal(rc, 0);
        assert_non_null(strstr(out, "architecture    llama"));
        assert_non_null(strstr(out, "params          48 (48)"));
        free(out);
        free(err);
        free(cmd);
        unlink(path);
        free(path);
        free(b.p);
    }
}

static void test_hostile_files(void **state)
{
    (void)state;
    printf("%zu hostile files through `edgelm info`:\n", GC_N_HOSTILE);
    for (size_t i = 0; i < GC_N_HOSTILE; i++) {
        const gc_case *c = &gc_hostile[i];
        gc_buf b = {0};
        c->build(&b);
        char *name = tu_fmt("hostile_%s.gguf", c->name);
        char *path = tu_tmp(name);
        assert_int_equal(tu_write_file(path, b.n ? (const void *)b.p : "", b.n), 0);

        el_err e;
        int irc = open_and_check(b.p, b.n, name, &e);
        if (irc == 0) fail_msg("%s: accepted in-process", c->name);
        if (!strstr(e.msg, c->expect)) fail_msg("%s: in-process message '%s' lacks '%s'", c->name, e.msg, c->expect);

        char *out = NULL, *err = NULL;
        char *cmd = tu_fmt("'%s' info '%s'", EL_BIN, path);
        int rc = tu_run(cmd, &out, &err);
        printf("  %-18s %5zu bytes  exit %d  %s", c->name, b.n, rc, err ? err : "(no stderr)\n");
        if (rc == 0 || rc >= 128) fail_msg("%s: exit status %d", c->name, rc);
        if (count_lines(err) != 1) fail_msg("%s: %d stderr lines", c->name, count_lines(err));
        if (!strstr(err, name)) fail_msg("%s: message does not name the file", c->name);
        if (!strstr(err, c->expect)) fail_msg("%s: message lacks '%s'", c->name, c->expect);
        if (strncmp(err, "edgelm info: ", 13)) fail_msg("%s: message does not start with 'edgelm info: '", c->name);
        assert_true(out == NULL || out[0] == 0);
        free(out);
        free(err);
        free(cmd);
        unlink(path);
        free(path);
        free(name);
        free(b.p);
    }
    assert_true(GC_N_HOSTILE >= 18);
}

static void test_every_truncation_prefix(void **state)
{
    (void)state;
    gc_opts variants[2] = {gc_default(), gc_default()};
    variants[1].version = 2;
    variants[1].alignment = 64;
    variants[1].out_off = 192;
    for (int v = 0; v < 2; v++) {
        gc_buf b = {0};
        gc_llama(&b, variants[v]);
        int refused = 0;
        for (size_t n = 0; n < b.n; n++) {
            el_err e;
            e.msg[0] = 0;
            if (open_and_check(b.p, n, "prefix.gguf", &e) == 0) fail_msg("prefix of %zu / %zu bytes accepted", n, b.n);
            if (!strstr(e.msg, "prefix.gguf")) fail_msg("prefix %zu: message '%s' does not name the file", n, e.msg);
            refused++;
        }
        el_err e;
        if (open_and_check(b.p, b.n, "full.gguf", &e)) fail_msg("full file refused: %s", e.msg);
        printf("variant %d: %d of %zu strict prefixes refused, full file (%zu bytes) accepted\n", v, refused, b.n, b.n);
        /* a sample through the CLI: one line each, no signal */
        char *path = tu_tmp("prefix.gguf");
        for (size_t n = 1; n < b.n; n += 97) {
            assert_int_equal(tu_write_file(path, b.p, n), 0);
            char *err = NULL, *cmd = tu_fmt("'%s' info '%s'", EL_BIN, path);
            int rc = tu_run(cmd, NULL, &err);
            assert_true(rc == 1);
            assert_int_equal(count_lines(err), 1);
            free(err);
            free(cmd);
        }
        unlink(path);
        free(path);
        free(b.p);
    }
}

static void test_cli_usage(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    char *cmd = tu_fmt("'%s' info --help", EL_BIN);
    assert_int_equal(tu_run(cmd, &out, &err), 0);
    assert_non_null(strstr(out, "usage: edgelm info"));
    free(out); free(err); free(cmd);
    cmd = tu_fmt("'%s' info --bogus x.gguf", EL_BIN);
    assert_int_equal(tu_run(cmd, &out, &err), 2);
    assert_non_null(strstr(err, "--bogus"));
    assert_int_equal(count_lines(err), 1);
    free(out); free(err); free(cmd);
    cmd = tu_fmt("'%s' info", EL_BIN);
    assert_int_equal(tu_run(cmd, &out, &err), 2);
    assert_int_equal(count_lines(err), 1);
    free(out); free(err); free(cmd);
    cmd = tu_fmt("'%s' info /nonexistent/model.gguf", EL_BIN);
    assert_int_equal(tu_run(cmd, &out, &err), 1);
    printf("missing file: %s", err);
    assert_non_null(strstr(err, "/nonexistent/model.gguf"));
    assert_int_equal(count_lines(err), 1);
    free(out); free(err); free(cmd);
    cmd = tu_fmt("'%s' info /tmp", EL_BIN);
    assert_int_equal(tu_run(cmd, &out, &err), 1);
    printf("directory: %s", err);
    free(out); free(err); free(cmd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_model_opens),
        cmocka_unit_test(test_hostile_files),
        cmocka_unit_test(test_every_truncation_prefix),
        cmocka_unit_test(test_cli_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
