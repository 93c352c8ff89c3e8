/* test_perplexity.c -- every row of llama.cpp's perplexity.tsv for
 * stories260K (file, ctx, chunks -> PPL, stderr), reproduced within 0.5%. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgelm/model.h"
#include "testutil.h"

static void test_perplexity_tsv(void **state)
{
    (void)state;
    char *tsv_path = tu_shared("reference/stories260K/perplexity.tsv");
    char *tsv = tu_read_file(tsv_path, NULL);
    assert_non_null(tsv);
    char *model_path = tu_shared("data/models/stories260K.gguf");
    el_err err;
    el_model *m = el_model_load(model_path, &err);
    if (!m) fail_msg("%s", err.msg);
    int rows = 0;
    char *save = NULL;
    for (char *line = strtok_r(tsv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char file[256];
        int ctx, chunks;
        double ppl_ref, err_ref;
        if (sscanf(line, "%255s %d %d %lf %lf", file, &ctx, &chunks, &ppl_ref, &err_ref) != 5) continue;
        char rel[300];
        snprintf(rel, sizeof rel, "data/text/%s", file);
        char *text_path = tu_shared(rel);
        size_t len;
        char *text = tu_read_file(text_path, &len);
        assert_non_null(text);
        const el_tokenizer *tok = el_model_tokenizer(m);
        int64_t n = el_tokenize(tok, text, len, true, false, NULL, 0, &err);
        assert_true(n > 0);
        int32_t *ids = malloc((size_t)n * sizeof *ids);
        assert_int_equal(el_tokenize(tok, text, len, true, false, ids, n, &err), n);
        el_context *c = el_context_new(m, ctx, 2, &err);
        if (!c) fail_msg("%s", err.msg);
        el_ppl_result r;
        if (el_perplexity(c, ids, n, ctx, chunks, NULL, NULL, &r, &err)) fail_msg("%s", err.msg);
        double rel_diff = fabs(r.ppl - ppl_ref) / ppl_ref;
        printf("# %s ctx %d chunks %d: edgelm %.4f +/- %.5f, llama.cpp %.4f +/- %.5f (%.4f%% apart)\n", file, ctx,
               r.chunks, r.ppl, r.ppl_err, ppl_ref, err_ref, 100 * rel_diff);
        assert_int_equal(r.chunks, chunks);
        assert_true(rel_diff <= 0.005);
        assert_true(fabs(r.ppl_err - err_ref) / err_ref <= 0.05);
        el_context_free(c);
        free(ids), free(text), free(text_path);
        rows++;
    }
    assert_int_equal(rows, 4);
    el_model_free(m);
    free(model_path), free(tsv), free(tsv_path);
}

/* The CLI prints llama-perplexity's final line. */
static void test_perplexity_cli(void **state)
{
    (void)state;
    char *model = tu_shared("data/models/stories260K.gguf"), *text = tu_shared("data/text/tinystories-valid-sample.txt");
    char cmd[2048], *out = NULL, *errs = NULL;
    snprintf(cmd, sizeof cmd, EL_BIN " perplexity -m %s -f %s -c 128 --chunks 40", model, text);
    assert_int_equal(tu_run(cmd, &out, &errs), 0);
    assert_non_null(strstr(out, "Final estimate: PPL = 5.17"));
    assert_non_null(strstr(errs, "[40]"));
    free(out), free(errs);
    snprintf(cmd, sizeof cmd, EL_BIN " perplexity -m %s -f %s -c 2", model, text);
    assert_int_equal(tu_run(cmd, &out, &errs), 2);
    assert_non_null(strstr(errs, "-c"));
    free(out), free(errs);
    snprintf(cmd, sizeof cmd, EL_BIN " perplexity -m %s -f /nonexistent.txt", model);
    assert_int_equal(tu_run(cmd, &out, &errs), 1);
    assert_non_null(strstr(errs, "/nonexistent.txt"));
    free(out), free(errs);
    free(model), free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_perplexity_tsv),
        cmocka_unit_test(test_perplexity_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
