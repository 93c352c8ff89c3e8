/* test_tools.c -- `edgelm synth` and `edgelm quantize`.
 *
 * Independent references: the tensor-type mixes below were measured with
 * llama.cpp's llama-quantize (build c392e50) on edgelm's synthetic f16 files
 * (edgelm's own quantize produced byte-identical tensors there, see
 * bench/README.md); shapes are the real models' config.json values; Q8_0 is
 * re-derived here from its definition (d = max|x|/127, q = round(x/d)). */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgelm/gguf.h"
#include "edgelm/tools.h"
#include "edgelm/types.h"
#include "testutil.h"

static const char *type_name(el_type t) { return el_type_info(t)->name; }

/* llama-quantize's Q4_K_M choices for Llama-3.2-1B (16 layers): everything
 * Q4_K except these 17 tensors (all Q6_K). */
static void test_mix_llama32_1b_q4_k_m(void **state)
{
    (void)state;
    static const char *q6k[] = {"token_embd.weight", "blk.0.attn_v.weight", "blk.0.ffn_down.weight",
                                "blk.1.attn_v.weight", "blk.1.ffn_down.weight", "blk.4.attn_v.weight",
                                "blk.4.ffn_down.weight", "blk.7.attn_v.weight", "blk.7.ffn_down.weight",
                                "blk.10.attn_v.weight", "blk.10.ffn_down.weight", "blk.13.attn_v.weight",
                                "blk.13.ffn_down.weight", "blk.14.attn_v.weight", "blk.14.ffn_down.weight",
                                "blk.15.attn_v.weight", "blk.15.ffn_down.weight"};
    static const char *kinds[] = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};
    int n_q6 = 0, n_q4 = 0;
    for (int l = -1; l < 16; l++) {
        for (size_t k = 0; k < (l < 0 ? 1 : 7); k++) {
            char name[64];
            if (l < 0) snprintf(name, sizeof name, "token_embd.weight");
            else snprintf(name, sizeof name, "blk.%d.%s.weight", l, kinds[k]);
            int64_t ne[2] = {strstr(name, "ffn_down") ? 8192 : 2048, 2048};
            el_type t = el_ftype_tensor_type(EL_FTYPE_Q4_K_M, name, 2, ne, l < 0 ? 0 : l, 16, false);
            bool want6 = false;
            for (size_t i = 0; i < sizeof q6k / sizeof q6k[0]; i++) want6 |= strcmp(q6k[i], name) == 0;
            if (t != (want6 ? EL_TYPE_Q6_K : EL_TYPE_Q4_K))
                fail_msg("%s: edgelm chose %s, llama-quantize %s", name, type_name(t), want6 ? "q6_K" : "q4_K");
            want6 ? n_q6++ : n_q4++;
        }
    }
    printf("# llama-3.2-1b q4_k_m: %d q6_K + %d q4_K tensors as llama-quantize\n", n_q6, n_q4);
    int64_t norm[1] = {2048};
    assert_int_equal(el_ftype_tensor_type(EL_FTYPE_Q4_K_M, "blk.0.attn_norm.weight", 1, norm, 0, 16, false), EL_TYPE_F32);
}

/* SmolLM2-135M rows of 576 do not divide into 256-blocks: llama-quantize
 * falls back to Q5_0 (Q4_K) and Q8_0 (Q6_K and the tied output). */
static void test_mix_smollm2_fallbacks(void **state)
{
    (void)state;
    int64_t q[2] = {576, 576}, down[2] = {1536, 576}, emb[2] = {576, 49152};
    assert_int_equal(el_ftype_tensor_type(EL_FTYPE_Q4_K_M, "token_embd.weight", 2, emb, 0, 30, false), EL_TYPE_Q8_0);
    assert_int_equal(el_ftype_tensor_type(EL_FTYPE_Q4_K_M, "blk.3.attn_q.weight", 2, q, 3, 30, false), EL_TYPE_Q5_0);
    assert_int_equal(el_ftype_tensor_type(EL_FTYPE_Q4_K_M, "blk.0.attn_v.weight", 2, q, 0, 30, false), EL_TYPE_Q8_0);
    assert_int_equal(el_ftype_tensor_type(EL_FTYPE_Q4_K_M, "blk.3.attn_v.weight", 2, q, 3, 30, false), EL_TYPE_Q5_0);
    assert_int_equal(el_ftype_tensor_type(EL_FTYPE_Q4_K_M, "blk.5.ffn_down.weight", 2, down, 5, 30, false), EL_TYPE_Q6_K);
    assert_int_equal(el_ftype_tensor_type(EL_FTYPE_Q4_K_M, "blk.4.ffn_down.weight", 2, down, 4, 30, false), EL_TYPE_Q4_K);
    /* Q4_0 gives the output Q6_K -> Q8_0 fallback; Q8_0 keeps Q8_0 */
    assert_int_equal(el_ftype_tensor_type(EL_FTYPE_Q4_0, "token_embd.weight", 2, emb, 0, 30, false), EL_TYPE_Q8_0);
    assert_int_equal(el_ftype_tensor_type(EL_FTYPE_Q4_0, "blk.1.attn_q.weight", 2, q, 1, 30, false), EL_TYPE_Q4_0);
    assert_int_equal(el_ftype_tensor_type(EL_FTYPE_Q8_0, "token_embd.weight", 2, emb, 0, 30, false), EL_TYPE_Q8_0);
    assert_int_equal(el_ftype_tensor_type(EL_FTYPE_F16, "blk.1.attn_q.weight", 2, q, 1, 30, false), EL_TYPE_F16);
    assert_int_equal(el_ftype_from_name("Q4_K_M"), EL_FTYPE_Q4_K_M);
    assert_int_equal(el_ftype_from_name("q9_9"), -1);
}

static uint32_t get_u32(el_gguf *g, const char *key)
{
    el_err err;
    uint32_t v = 0;
    if (el_gguf_get_u32(g, key, &v, &err)) fail_msg("%s", err.msg);
    return v;
}

static void expect_tensor(el_gguf *g, const char *name, int64_t ne0, int64_t ne1, el_type type)
{
    const el_gguf_tensor *t = el_gguf_find_tensor(g, name);
    if (!t) fail_msg("tensor %s missing", name);
    if (t->ne[0] != ne0 || t->ne[1] != ne1 || t->type != type)
        fail_msg("%s: [%lld, %lld] %s, expected [%lld, %lld] %s", name, (long long)t->ne[0], (long long)t->ne[1],
                 type_name(t->type), (long long)ne0, (long long)ne1, type_name(type));
}

/* Shapes from each model's config.json (hidden, layers, heads, kv heads, ffn, vocab). */
static void test_synth_shapes(void **state)
{
    (void)state;
    char *path = tu_tmp("synth-qwen.gguf");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, EL_BIN " synth --like qwen2.5-0.5b --type q8_0 --layers 2 --seed 7 -o %s", path);
    char *out = NULL, *errs = NULL;
    assert_int_equal(tu_run(cmd, &out, &errs), 0);
    free(out), free(errs);
    el_err err;
    el_gguf *g = el_gguf_open(path, &err);
    if (!g) fail_msg("%s", err.msg);
    assert_int_equal(get_u32(g, "qwen2.embedding_length"), 896);
    assert_int_equal(get_u32(g, "qwen2.block_count"), 2);
    assert_int_equal(get_u32(g, "qwen2.attention.head_count"), 14);
    assert_int_equal(get_u32(g, "qwen2.attention.head_count_kv"), 2);
    assert_int_equal(get_u32(g, "qwen2.feed_forward_length"), 4864);
    assert_int_equal(get_u32(g, "general.file_type"), 7);
    expect_tensor(g, "token_embd.weight", 896, 151936, EL_TYPE_Q8_0);
    expect_tensor(g, "blk.1.attn_q.weight", 896, 896, EL_TYPE_Q8_0);
    expect_tensor(g, "blk.1.attn_k.weight", 896, 128, EL_TYPE_Q8_0);
    expect_tensor(g, "blk.1.attn_k.bias", 128, 1, EL_TYPE_F32);
    expect_tensor(g, "blk.0.ffn_down.weight", 4864, 896, EL_TYPE_Q8_0);
    expect_tensor(g, "output_norm.weight", 896, 1, EL_TYPE_F32);
    assert_null(el_gguf_find_tensor(g, "output.weight"));   /* tied */
    const el_gguf_kv *toks = el_gguf_get_arr(g, "tokenizer.ggml.tokens", EL_GGUF_STRING, &err);
    assert_non_null(toks);
    assert_int_equal(toks->arr_n, 151936);
    assert_int_equal(toks->arr_str[151643].len, strlen("<|endoftext|>"));
    const el_gguf_kv *syn = el_gguf_find(g, "edgelm.synthetic");
    assert_non_null(syn);
    assert_true(syn->v.b);
    el_gguf_close(g);
    free(path);

    /* Llama 3.2: rope_freqs holds Llama 3's factors: 1 for the highest
     * frequency, the scaling factor 32 for the lowest */
    path = tu_tmp("synth-llama.gguf");
    snprintf(cmd, sizeof cmd, EL_BIN " synth --like llama-3.2-1b --type q4_k_m --layers 1 -o %s", path);
    assert_int_equal(tu_run(cmd, &out, &errs), 0);
    free(out), free(errs);
    g = el_gguf_open(path, &err);
    if (!g) fail_msg("%s", err.msg);
    expect_tensor(g, "rope_freqs.weight", 32, 1, EL_TYPE_F32);
    expect_tensor(g, "token_embd.weight", 2048, 128256, EL_TYPE_Q6_K);
    expect_tensor(g, "blk.0.attn_k.weight", 2048, 512, EL_TYPE_Q4_K);
    expect_tensor(g, "blk.0.ffn_gate.weight", 2048, 8192, EL_TYPE_Q4_K);
    const float *rf = el_gguf_find_tensor(g, "rope_freqs.weight")->data;
    printf("# rope_freqs[0] = %g, rope_freqs[31] = %g\n", rf[0], rf[31]);
    assert_float_equal(rf[0], 1.0, 1e-6);
    assert_float_equal(rf[31], 32.0, 1e-4);
    for (int i = 1; i < 32; i++) assert_true(rf[i] >= rf[i - 1]);
    el_gguf_close(g);
    free(path);
}

static void test_synth_deterministic_and_errors(void **state)
{
    (void)state;
    char *a = tu_tmp("syn-a.gguf"), *b = tu_tmp("syn-b.gguf"), *c = tu_tmp("syn-c.gguf");
    char cmd[1024], *out = NULL, *errs = NULL;
    const char *fmt = EL_BIN " synth --like smollm2-135m --type q4_0 --layers 1 --seed %d -o %s";
    snprintf(cmd, sizeof cmd, fmt, 5, a);
    assert_int_equal(tu_run(cmd, &out, &errs), 0);
    free(out), free(errs);
    snprintf(cmd, sizeof cmd, fmt, 5, b);
    assert_int_equal(tu_run(cmd, &out, &errs), 0);
    free(out), free(errs);
    snprintf(cmd, sizeof cmd, fmt, 6, c);
    assert_int_equal(tu_run(cmd, &out, &errs), 0);
    free(out), free(errs);
    size_t na, nb, nc;
    char *da = tu_read_file(a, &na), *db = tu_read_file(b, &nb), *dc = tu_read_file(c, &nc);
    assert_true(na == nb && memcmp(da, db, na) == 0);   /* same seed, same file */
    assert_true(na != nc || memcmp(da, dc, na) != 0);   /* other seed, other weights */
    free(da), free(db), free(dc);
    free(a), free(b), free(c);

    assert_int_equal(tu_run(EL_BIN " synth --like gpt-5 -o /tmp/x.gguf", &out, &errs), 1);
    assert_non_null(strstr(errs, "unknown model 'gpt-5'"));
    free(out), free(errs);
    assert_int_equal(tu_run(EL_BIN " synth --like smollm2-135m --type q3_x -o /tmp/x.gguf", &out, &errs), 2);
    assert_non_null(strstr(errs, "q3_x"));
    free(out), free(errs);
    assert_int_equal(tu_run(EL_BIN " synth --like smollm2-135m", &out, &errs), 2);
    assert_non_null(strstr(errs, "-o"));
    free(out), free(errs);
    assert_int_equal(tu_run(EL_BIN " synth --help", &out, &errs), 0);
    free(out), free(errs);
}

/* Decode a tensor to floats. */
static float *tensor_f32(const el_gguf_tensor *t)
{
    float *x = malloc(t->n_elements * sizeof *x);
    size_t row = el_row_size(t->type, t->ne[0]);
    for (uint64_t r = 0; r < t->n_elements / (uint64_t)t->ne[0]; r++)
        assert_int_equal(el_dequantize_row(t->type, (const uint8_t *)t->data + r * row, x + r * t->ne[0], t->ne[0]), 0);
    return x;
}

static void test_quantize_roundtrip(void **state)
{
    (void)state;
    char *src = tu_tmp("q-src.gguf");
    char cmd[1024], *out = NULL, *errs = NULL;
    snprintf(cmd, sizeof cmd, EL_BIN " synth --like smollm2-135m --type f16 --layers 1 -o %s", src);
    assert_int_equal(tu_run(cmd, &out, &errs), 0);
    free(out), free(errs);
    el_err err;
    el_gguf *gs = el_gguf_open(src, &err);
    assert_non_null(gs);
    /* SmolLM2 with one layer: ffn_down (rows of 1536) is Q6_K in the last
     * layer of Q4_K_M; ffn_gate (rows of 576) falls back from Q4_K to Q5_0 */
    static const struct { const char *name, *tensor; el_type expect; double max_rel_rmse; } cases[] = {
        {"q8_0", "blk.0.ffn_down.weight", EL_TYPE_Q8_0, 0.01},
        {"q4_0", "blk.0.ffn_down.weight", EL_TYPE_Q4_0, 0.15},
        {"q4_k_m", "blk.0.ffn_down.weight", EL_TYPE_Q6_K, 0.04},
        {"q4_k_m", "blk.0.ffn_gate.weight", EL_TYPE_Q5_0, 0.08},
        {"f16", "blk.0.ffn_gate.weight", EL_TYPE_F16, 1e-7},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const el_gguf_tensor *ts = el_gguf_find_tensor(gs, cases[c].tensor);
        float *ref = tensor_f32(ts);
        double ref_ss = 0;
        for (uint64_t i = 0; i < ts->n_elements; i++) ref_ss += (double)ref[i] * ref[i];
        char *dst = tu_tmp(cases[c].name);
        snprintf(cmd, sizeof cmd, EL_BIN " quantize -q %s %s %s", src, dst, cases[c].name);
        assert_int_equal(tu_run(cmd, &out, &errs), 0);
        free(out), free(errs);
        el_gguf *gq = el_gguf_open(dst, &err);
        if (!gq) fail_msg("%s", err.msg);
        const el_gguf_tensor *tq = el_gguf_find_tensor(gq, cases[c].tensor);
        assert_int_equal(tq->type, cases[c].expect);
        float *x = tensor_f32(tq);
        double ss = 0;
        for (uint64_t i = 0; i < ts->n_elements; i++) ss += ((double)x[i] - ref[i]) * ((double)x[i] - ref[i]);
        double rel = sqrt(ss / ref_ss);
        printf("# quantize %-7s %s as %s: relative RMSE %.5f (bound %.3g)\n", cases[c].name, cases[c].tensor,
               type_name(tq->type), rel, cases[c].max_rel_rmse);
        assert_true(rel <= cases[c].max_rel_rmse);
        if (cases[c].expect == EL_TYPE_Q8_0) {
            /* Q8_0 re-derived from its definition, block by block */
            const uint8_t *blk = tq->data;
            for (uint64_t b = 0; b < ts->n_elements / 32; b++, blk += 34) {
                float amax = 0;
                for (int i = 0; i < 32; i++) amax = fmaxf(amax, fabsf(ref[b * 32 + i]));
                float d = amax / 127.0f, id = d ? 1.0f / d : 0.0f;
                uint16_t dh;
                memcpy(&dh, blk, 2);
                assert_int_equal(dh, el_fp32_to_fp16(d));
                for (int i = 0; i < 32; i++) assert_int_equal((int8_t)blk[2 + i], (int)roundf(ref[b * 32 + i] * id));
            }
        }
        uint32_t ft = 0;
        assert_int_equal(el_gguf_get_u32(gq, "general.file_type", &ft, &err), 0);
        assert_int_equal(ft, (uint32_t)el_ftype_from_name(cases[c].name));
        assert_int_equal(gq->n_tensors, gs->n_tensors);
        free(x);
        free(dst);
        free(ref);
        el_gguf_close(gq);
    }
    el_gguf_close(gs);

    assert_int_equal(tu_run(EL_BIN " quantize /nonexistent.gguf /tmp/x.gguf q8_0", &out, &errs), 1);
    assert_non_null(strstr(errs, "/nonexistent.gguf"));
    free(out), free(errs);
    snprintf(cmd, sizeof cmd, EL_BIN " quantize %s /tmp/x.gguf q7_7", src);
    assert_int_equal(tu_run(cmd, &out, &errs), 2);
    assert_non_null(strstr(errs, "q7_7"));
    free(out), free(errs);
    free(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mix_llama32_1b_q4_k_m),
        cmocka_unit_test(test_mix_smollm2_fallbacks),
        cmocka_unit_test(test_synth_shapes),
        cmocka_unit_test(test_synth_deterministic_and_errors),
        cmocka_unit_test(test_quantize_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
