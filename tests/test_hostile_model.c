/* test_hostile_model.c -- model files that are valid GGUF but wrong as
 * models: each `edgelm generate` fails with one line naming the file and the
 * key or tensor, a non-zero exit and no crash. The files are stories260K
 * rewritten with the GGUF writer, one defect each. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgelm/gguf.h"
#include "edgelm/types.h"
#include "testutil.h"

typedef struct defect {
    const char *name;
    const char *drop_key;      /* metadata key left out */
    const char *drop_tensor;   /* tensor left out */
    const char *reshape;       /* tensor written with its dims swapped / cut */
    const char *retype;        /* tensor declared with another type */
    const char *set_u32_key;   /* key overwritten with set_u32_val */
    uint32_t set_u32_val;
    const char *expect;        /* substring of the error */
} defect;

static const defect defects[] = {
    {"no-block-count", "llama.block_count", NULL, NULL, NULL, NULL, 0, "llama.block_count"},
    {"no-embedding-length", "llama.embedding_length", NULL, NULL, NULL, NULL, 0, "llama.embedding_length"},
    {"no-architecture", "general.architecture", NULL, NULL, NULL, NULL, 0, "general.architecture"},
    {"no-tokens", "tokenizer.ggml.tokens", NULL, NULL, NULL, NULL, 0, "tokenizer.ggml.tokens"},
    {"no-rms-eps", "llama.attention.layer_norm_rms_epsilon", NULL, NULL, NULL, NULL, 0, "layer_norm_rms_epsilon"},
    {"missing-tensor", NULL, "blk.2.ffn_up.weight", NULL, NULL, NULL, 0, "blk.2.ffn_up.weight"},
    {"missing-norm", NULL, "output_norm.weight", NULL, NULL, NULL, 0, "output_norm.weight"},
    {"shape-q", NULL, NULL, "blk.0.attn_q.weight", NULL, NULL, 0, "blk.0.attn_q.weight"},
    {"shape-k", NULL, NULL, "blk.3.attn_k.weight", NULL, NULL, 0, "blk.3.attn_k.weight"},
    {"more-layers", NULL, NULL, NULL, NULL, "llama.block_count", 6, "blk.5"},
    {"heads-not-divisible", NULL, NULL, NULL, NULL, "llama.attention.head_count_kv", 3, "head_count_kv"},
    {"wrong-embedding", NULL, NULL, NULL, NULL, "llama.embedding_length", 96, "token_embd.weight"},
    {"norm-not-f32", NULL, NULL, NULL, "blk.1.attn_norm.weight", NULL, 0, "blk.1.attn_norm.weight"},
};

static void write_defective(const el_gguf *src, const defect *d, const char *path)
{
    el_err err;
    el_gguf_writer *w = el_gguf_writer_new(3, &err);
    assert_non_null(w);
    for (uint64_t i = 0; i < src->n_kv; i++) {
        const el_gguf_kv *kv = &src->kv[i];
        if (d->drop_key && strcmp(kv->key, d->drop_key) == 0) continue;
        if (d->set_u32_key && strcmp(kv->key, d->set_u32_key) == 0) {
            assert_int_equal(el_gguf_writer_set_u32(w, kv->key, d->set_u32_val, &err), 0);
            continue;
        }
        assert_int_equal(el_gguf_writer_copy_kv(w, src, kv, &err), 0);
    }
    for (uint64_t i = 0; i < src->n_tensors; i++) {
        const el_gguf_tensor *t = &src->tensors[i];
        if (d->drop_tensor && strcmp(t->name, d->drop_tensor) == 0) continue;
        int64_t ne[4] = {t->ne[0], t->ne[1], t->ne[2], t->ne[3]};
        uint32_t nd = t->n_dims;
        el_type type = t->type;
        if (d->reshape && strcmp(t->name, d->reshape) == 0) {
            /* same bytes, rows and columns swapped -> wrong shape */
            int64_t x = ne[0];
            ne[0] = ne[1], ne[1] = x;
            if (ne[0] == ne[1]) ne[0] /= 2, ne[1] *= 2;
        }
        if (d->retype && strcmp(t->name, d->retype) == 0) {
            type = EL_TYPE_F16;   /* half the bytes of the f32 data are used */
        }
        if (nd == 1 && ne[1] != 1) nd = 2;
        if (el_gguf_writer_add_tensor(w, t->name, type, nd, ne, t->data, &err)) fail_msg("%s: %s", d->name, err.msg);
    }
    if (el_gguf_writer_write(w, path, &err)) fail_msg("%s: %s", d->name, err.msg);
    el_gguf_writer_free(w);
}

static void test_defective_models(void **state)
{
    (void)state;
    char *src_path = tu_shared("data/models/stories260K.gguf");
    el_err err;
    el_gguf *src = el_gguf_open(src_path, &err);
    assert_non_null(src);
    for (size_t i = 0; i < sizeof defects / sizeof defects[0]; i++) {
        const defect *d = &defects[i];
        char name[128];
        snprintf(name, sizeof name, "bad-model-%s.gguf", d->name);
        char *path = tu_tmp(name);
        write_defective(src, d, path);
        char cmd[2048], *out = NULL, *errs = NULL;
        snprintf(cmd, sizeof cmd, EL_BIN " generate -m %s -p hello -n 4", path);
        int rc = tu_run(cmd, &out, &errs);
        printf("# %-22s exit %d: %s", d->name, rc, errs);
        assert_true(rc == 1);
        assert_non_null(strstr(errs, path));
        assert_non_null(strstr(errs, d->expect));
        int lines = 0;
        for (const char *p = errs; *p; p++) lines += *p == '\n';
        assert_int_equal(lines, 1);
        free(out), free(errs), free(path);
    }
    el_gguf_close(src);
    free(src_path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defective_models),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
