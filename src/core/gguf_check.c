/* gguf_check.c -- light consistency checks of a GGUF file's architecture
 * metadata against its tensors, for the decoder architectures edgelm runs
 * (llama, qwen2, qwen2vl). Files of other architectures pass unchecked. */
#include "edgelm/gguf.h"

#include <stdio.h>
#include <string.h>

static const char *const checked_archs[] = {"llama", "qwen2", "qwen2vl"};

/* Read "<arch>.<suffix>" as a positive integer. */
static int get_pos(const el_gguf *g, const char *arch, const char *suffix, int64_t *out, el_err *err)
{
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    if (el_gguf_get_i64(g, key, out, err)) return -1;
    if (*out <= 0) return el_errf(err, "%s: key '%s' is %lld, expected a positive integer", g->path, key, (long long)*out);
    return 0;
}

/* Tensor `name` must exist with ne[0] == n0 (and ne[1] == n1 when n1 > 0). */
static int check_shape(const el_gguf *g, const char *name, int64_t n0, int64_t n1, const char *what0,
                       const char *what1, el_err *err)
{
    const el_gguf_tensor *t = el_gguf_find_tensor(g, name);
    if (!t) return el_errf(err, "%s: missing required tensor '%s'", g->path, name);
    if (t->ne[0] != n0)
        return el_errf(err, "%s: tensor '%s' has shape [%lld, %lld] but %s is %lld (shape contradicts the hyperparameters)",
                       g->path, name, (long long)t->ne[0], (long long)t->ne[1], what0, (long long)n0);
    if (n1 > 0 && t->ne[1] != n1)
        return el_errf(err, "%s: tensor '%s' has shape [%lld, %lld] but %s is %lld (shape contradicts the hyperparameters)",
                       g->path, name, (long long)t->ne[0], (long long)t->ne[1], what1, (long long)n1);
    return 0;
}

int el_gguf_check_arch(const el_gguf *g, el_err *err)
{
    const el_gguf_kv *a = el_gguf_find(g, "general.architecture");
    if (!a) return 0;
    if (a->type != EL_GGUF_STRING)
        return el_errf(err, "%s: key 'general.architecture' has type %s, expected string", g->path,
                       el_gguf_vtype_name(a->type));
    char arch[64];
    if (a->v.str.len >= sizeof arch) return 0;
    memcpy(arch, a->v.str.data, a->v.str.len);
    arch[a->v.str.len] = 0;
    bool checked = false;
    for (size_t i = 0; i < sizeof checked_archs / sizeof *checked_archs; i++)
        if (strcmp(arch, checked_archs[i]) == 0) checked = true;
    if (!checked) return 0;

    int64_t n_embd, n_layer, n_head, n_head_kv;
    if (get_pos(g, arch, "embedding_length", &n_embd, err) || get_pos(g, arch, "block_count", &n_layer, err) ||
        get_pos(g, arch, "attention.head_count", &n_head, err))
        return -1;
    char key[128];
    snprintf(key, sizeof key, "%s.attention.head_count_kv", arch);
    if (el_gguf_find(g, key)) {
        if (get_pos(g, arch, "attention.head_count_kv", &n_head_kv, err)) return -1;
        if (n_head_kv > n_head || n_head % n_head_kv)
            return el_errf(err, "%s: key '%s' is %lld, expected a divisor of %s.attention.head_count (%lld)", g->path,
                           key, (long long)n_head_kv, arch, (long long)n_head);
    }
    snprintf(key, sizeof key, "%s.attention.key_length", arch);
    if (!el_gguf_find(g, key) && n_embd % n_head)
        return el_errf(err, "%s: %s.embedding_length %lld is not a multiple of %s.attention.head_count %lld", g->path,
                       arch, (long long)n_embd, arch, (long long)n_head);
    if (n_layer > 4096) return el_errf(err, "%s: key '%s.block_count' is %lld, expected at most 4096", g->path, arch, (long long)n_layer);

    /* vocabulary size: the token list, else <arch>.vocab_size, else unchecked */
    int64_t n_vocab = 0;
    const el_gguf_kv *tok = el_gguf_find(g, "tokenizer.ggml.tokens");
    if (tok && tok->type == EL_GGUF_ARRAY) n_vocab = (int64_t)tok->arr_n;
    snprintf(key, sizeof key, "%s.vocab_size", arch);
    if (!n_vocab && el_gguf_find(g, key) && get_pos(g, arch, "vocab_size", &n_vocab, err)) return -1;

    if (check_shape(g, "token_embd.weight", n_embd, n_vocab, "embedding_length", "the vocabulary size", err)) return -1;
    const el_gguf_tensor *on = el_gguf_find_tensor(g, "output_norm.weight");
    if (on && check_shape(g, "output_norm.weight", n_embd, 0, "embedding_length", NULL, err)) return -1;
    const el_gguf_tensor *out = el_gguf_find_tensor(g, "output.weight");
    if (out && check_shape(g, "output.weight", n_embd, n_vocab, "embedding_length", "the vocabulary size", err)) return -1;
    for (int64_t l = 0; l < n_layer; l++) {
        char name[64];
        snprintf(name, sizeof name, "blk.%lld.attn_norm.weight", (long long)l);
        if (check_shape(g, name, n_embd, 0, "embedding_length", NULL, err)) return -1;
    }
    return 0;
}
