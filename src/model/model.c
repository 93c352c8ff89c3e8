/* model.c -- load a llama-family GGUF: hyperparameters from the metadata,
 * every tensor checked against them, weights left in the mapping. */
#include "model_int.h"
#include "repack.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int get_u32_key(const el_gguf *g, const char *arch, const char *suffix, bool required, uint32_t def,
                       int32_t *out, el_err *err)
{
    char key[160];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    if (!el_gguf_find(g, key)) {
        if (required) return el_errf(err, "%s: missing required key '%s'", g->path, key);
        *out = (int32_t)def;
        return 0;
    }
    uint32_t v;
    if (el_gguf_get_u32(g, key, &v, err)) return -1;
    if (v > (1u << 30)) return el_errf(err, "%s: key '%s' is %u, implausibly large", g->path, key, v);
    *out = (int32_t)v;
    return 0;
}

static int get_f32_key(const el_gguf *g, const char *arch, const char *suffix, bool required, float def,
                       float *out, el_err *err)
{
    char key[160];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    if (!el_gguf_find(g, key)) {
        if (required) return el_errf(err, "%s: missing required key '%s'", g->path, key);
        *out = def;
        return 0;
    }
    return el_gguf_get_f32(g, key, out, err);
}

static int read_hparams(el_model *m, el_err *err)
{
    const el_gguf *g = m->gguf;
    el_hparams *hp = &m->hp;
    char *arch = NULL;
    if (el_gguf_get_str(g, "general.architecture", &arch, err)) return -1;
    if (strcmp(arch, "llama") != 0 && strcmp(arch, "qwen2") != 0) {
        el_errf(err, "%s: architecture '%s' is not supported (supported: llama, qwen2)", g->path, arch);
        free(arch);
        return -1;
    }
    snprintf(hp->arch, sizeof hp->arch, "%s", arch);
    free(arch);
    const char *a = hp->arch;
    if (get_u32_key(g, a, "embedding_length", true, 0, &hp->n_embd, err) ||
        get_u32_key(g, a, "block_count", true, 0, &hp->n_layer, err) ||
        get_u32_key(g, a, "attention.head_count", true, 0, &hp->n_head, err) ||
        get_u32_key(g, a, "feed_forward_length", true, 0, &hp->n_ff, err) ||
        get_u32_key(g, a, "context_length", true, 0, &hp->n_ctx_train, err) ||
        get_f32_key(g, a, "attention.layer_norm_rms_epsilon", true, 0, &hp->rms_eps, err) ||
        get_f32_key(g, a, "rope.freq_base", false, 10000.0f, &hp->rope_base, err))
        return -1;
    if (hp->n_embd <= 0 || hp->n_layer <= 0 || hp->n_head <= 0 || hp->n_ff <= 0 || hp->n_ctx_train <= 0)
        return el_errf(err, "%s: hyperparameters must be positive (embedding_length %d, block_count %d, "
                            "head_count %d, feed_forward_length %d, context_length %d)",
                       g->path, hp->n_embd, hp->n_layer, hp->n_head, hp->n_ff, hp->n_ctx_train);
    if (get_u32_key(g, a, "attention.head_count_kv", false, (uint32_t)hp->n_head, &hp->n_head_kv, err)) return -1;
    if (hp->n_head_kv <= 0 || hp->n_head % hp->n_head_kv != 0)
        return el_errf(err, "%s: key '%s.attention.head_count_kv' is %d, expected a divisor of head_count %d", g->path,
                       a, hp->n_head_kv, hp->n_head);
    int32_t def_hd = hp->n_embd % hp->n_head == 0 ? hp->n_embd / hp->n_head : 0;
    if (get_u32_key(g, a, "attention.key_length", false, (uint32_t)def_hd, &hp->head_dim, err)) return -1;
    if (hp->head_dim <= 0 || hp->head_dim % 2)
        return el_errf(err, "%s: head dimension %d (embedding_length %d / head_count %d) must be a positive even number",
                       g->path, hp->head_dim, hp->n_embd, hp->n_head);
    if (get_u32_key(g, a, "rope.dimension_count", false, (uint32_t)hp->head_dim, &hp->n_rot, err)) return -1;
    if (hp->n_rot <= 0 || hp->n_rot > hp->head_dim || hp->n_rot % 2)
        return el_errf(err, "%s: key '%s.rope.dimension_count' is %d, expected an even number <= head dimension %d",
                       g->path, a, hp->n_rot, hp->head_dim);
    if (!(hp->rms_eps > 0 && hp->rms_eps < 1))
        return el_errf(err, "%s: key '%s.attention.layer_norm_rms_epsilon' is %g, expected a small positive number",
                       g->path, a, hp->rms_eps);
    if (!(hp->rope_base > 1))
        return el_errf(err, "%s: key '%s.rope.freq_base' is %g, expected > 1", g->path, a, hp->rope_base);
    /* rope scaling: none or linear (yarn and others are refused) */
    hp->rope_freq_scale = 1.0f;
    char key[160];
    snprintf(key, sizeof key, "%s.rope.scaling.type", a);
    if (el_gguf_find(g, key)) {
        char *type = NULL;
        if (el_gguf_get_str(g, key, &type, err)) return -1;
        bool linear = strcmp(type, "linear") == 0, none = strcmp(type, "none") == 0;
        if (!linear && !none) {
            el_errf(err, "%s: key '%s' is '%s'; supported: none, linear (Llama 3 scaling uses the rope_freqs tensor)",
                    g->path, key, type);
            free(type);
            return -1;
        }
        free(type);
        float factor = 1.0f;
        if (linear && get_f32_key(g, a, "rope.scaling.factor", false, 1.0f, &factor, err)) return -1;
        if (!(factor > 0)) return el_errf(err, "%s: key '%s.rope.scaling.factor' is %g, expected > 0", g->path, a, factor);
        if (linear) hp->rope_freq_scale = 1.0f / factor;
    } else {
        float factor = 0;
        snprintf(key, sizeof key, "%s.rope.scale_linear", a);   /* older files */
        if (el_gguf_find(g, key) && el_gguf_get_f32(g, key, &factor, err) == 0 && factor > 0)
            hp->rope_freq_scale = 1.0f / factor;
    }
    hp->rope_type = strcmp(a, "qwen2") == 0 ? EL_ROPE_NEOX : EL_ROPE_NORM;
    hp->qkv_bias = strcmp(a, "qwen2") == 0;
    return 0;
}

/* Find a tensor and check its shape and type; ne1 = 0 means 1-D. */
static const el_gguf_tensor *want(el_model *m, const char *name, int64_t ne0, int64_t ne1, bool required,
                                  const char *why, el_err *err, int *rc)
{
    const el_gguf_tensor *t = el_gguf_find_tensor(m->gguf, name);
    if (!t) {
        if (required) *rc = el_errf(err, "%s: missing tensor '%s' (expected shape [%lld%s%.0lld], %s)",
                                    m->gguf->path, name, (long long)ne0, ne1 ? ", " : "", (long long)ne1, why);
        return NULL;
    }
    uint32_t nd = ne1 ? 2 : 1;
    bool ok = t->ne[0] == ne0 && (ne1 ? t->ne[1] == ne1 : t->ne[1] == 1) && t->ne[2] == 1 && t->ne[3] == 1;
    if (!ok) {
        *rc = el_errf(err, "%s: tensor '%s' has shape [%lld, %lld, %lld, %lld], expected [%lld%s%.0lld] (%s)",
                      m->gguf->path, name, (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2],
                      (long long)t->ne[3], (long long)ne0, ne1 ? ", " : "", (long long)ne1, why);
        return NULL;
    }
    (void)nd;
    const el_type_traits *tr = el_type_info(t->type);
    if (!tr || !tr->can_dequantize) {
        *rc = el_errf(err, "%s: tensor '%s' has type %s, which edgelm cannot compute with", m->gguf->path, name,
                      tr ? tr->name : "unknown");
        return NULL;
    }
    bool is_vector = ne1 == 0;
    if (is_vector && t->type != EL_TYPE_F32) {
        *rc = el_errf(err, "%s: tensor '%s' has type %s, expected f32 (norms and biases are f32)", m->gguf->path, name,
                      tr->name);
        return NULL;
    }
    return t;
}

static int load_tensors(el_model *m, el_err *err)
{
    const el_hparams *hp = &m->hp;
    int rc = 0;
    char why[256], name[128];
    const el_gguf_tensor *emb = el_gguf_find_tensor(m->gguf, "token_embd.weight");
    if (!emb) return el_errf(err, "%s: missing tensor 'token_embd.weight'", m->gguf->path);
    m->hp.n_vocab = (int32_t)emb->ne[1];
    if (emb->ne[1] <= 0 || emb->ne[1] > (1 << 24))
        return el_errf(err, "%s: tensor 'token_embd.weight' has %lld rows, expected a vocabulary size", m->gguf->path,
                       (long long)emb->ne[1]);
    snprintf(why, sizeof why, "%s.embedding_length = %d, vocabulary %d", hp->arch, hp->n_embd, hp->n_vocab);
    m->tok_embd = want(m, "token_embd.weight", hp->n_embd, hp->n_vocab, true, why, err, &rc);
    if (rc) return rc;
    m->output_norm = want(m, "output_norm.weight", hp->n_embd, 0, true, why, err, &rc);
    if (rc) return rc;
    m->output = want(m, "output.weight", hp->n_embd, hp->n_vocab, false, why, err, &rc);
    if (rc) return rc;
    m->hp.tied_output = m->output == NULL;
    if (!m->output) m->output = m->tok_embd;
    snprintf(why, sizeof why, "%s.rope.dimension_count / 2 = %d", hp->arch, hp->n_rot / 2);
    m->rope_freqs = want(m, "rope_freqs.weight", hp->n_rot / 2, 0, false, why, err, &rc);
    if (rc) return rc;
    m->hp.has_rope_freqs = m->rope_freqs != NULL;

    m->layers = el_calloc((size_t)hp->n_layer, sizeof *m->layers, err);
    if (!m->layers) return -1;
    int64_t d = hp->n_embd, qd = (int64_t)hp->n_head * hp->head_dim, kvd = (int64_t)hp->n_head_kv * hp->head_dim;
    for (int l = 0; l < hp->n_layer; l++) {
        el_layer *L = &m->layers[l];
#define W(field, suffix, ne0, ne1, req, fmt, ...)                                   \
    do {                                                                           \
        snprintf(name, sizeof name, "blk.%d.%s", l, suffix);                       \
        snprintf(why, sizeof why, fmt, __VA_ARGS__);                               \
        L->field = want(m, name, ne0, ne1, req, why, err, &rc);                    \
        if (rc) return rc;                                                         \
    } while (0)
        W(attn_norm, "attn_norm.weight", d, 0, true, "embedding_length %d", hp->n_embd);
        W(wq, "attn_q.weight", d, qd, true, "embedding_length %d, head_count %d x head_dim %d", hp->n_embd, hp->n_head,
          hp->head_dim);
        W(wk, "attn_k.weight", d, kvd, true, "embedding_length %d, head_count_kv %d x head_dim %d", hp->n_embd,
          hp->n_head_kv, hp->head_dim);
        W(wv, "attn_v.weight", d, kvd, true, "embedding_length %d, head_count_kv %d x head_dim %d", hp->n_embd,
          hp->n_head_kv, hp->head_dim);
        W(wo, "attn_output.weight", qd, d, true, "head_count %d x head_dim %d, embedding_length %d", hp->n_head,
          hp->head_dim, hp->n_embd);
        W(bq, "attn_q.bias", qd, 0, hp->qkv_bias, "head_count %d x head_dim %d", hp->n_head, hp->head_dim);
        W(bk, "attn_k.bias", kvd, 0, hp->qkv_bias, "head_count_kv %d x head_dim %d", hp->n_head_kv, hp->head_dim);
        W(bv, "attn_v.bias", kvd, 0, hp->qkv_bias, "head_count_kv %d x head_dim %d", hp->n_head_kv, hp->head_dim);
        W(ffn_norm, "ffn_norm.weight", d, 0, true, "embedding_length %d", hp->n_embd);
        W(w_gate, "ffn_gate.weight", d, hp->n_ff, true, "embedding_length %d, feed_forward_length %d", hp->n_embd,
          hp->n_ff);
        W(w_up, "ffn_up.weight", d, hp->n_ff, true, "embedding_length %d, feed_forward_length %d", hp->n_embd, hp->n_ff);
        W(w_down, "ffn_down.weight", hp->n_ff, d, true, "feed_forward_length %d, embedding_length %d", hp->n_ff,
          hp->n_embd);
#undef W
    }
    return 0;
}

/* Pack one weight tensor if this CPU has kernels for the packed layout, then
 * give the file pages of the original back (they are read again from the
 * page cache if anything looks at them later). */
/* The matrices decode reads, in the order it reads them: per layer Q, K, V,
 * output, gate, up, down; then the output head. */
static int decode_matrices(const el_model *m, const el_gguf_tensor **out)
{
    int n = 0;
    for (int l = 0; l < m->hp.n_layer; l++) {
        const el_layer *L = &m->layers[l];
        const el_gguf_tensor *ws[7] = {L->wq, L->wk, L->wv, L->wo, L->w_gate, L->w_up, L->w_down};
        for (int k = 0; k < 7; k++) out[n++] = ws[k];
    }
    out[n++] = m->output;
    return n;
}

/* Pack every matrix that the kernels take into one arena, back to back in
 * decode order, so that a token's weights are one stream in huge pages. */
static int pack_weights(el_model *m, el_err *err)
{
    m->packed = el_calloc((size_t)m->gguf->n_tensors, sizeof *m->packed, err);
    if (!m->packed) return -1;
    m->n_matrices = 7 * m->hp.n_layer + 1;
    snprintf(m->kernels, sizeof m->kernels, "row kernels");
    const el_gguf_tensor **ws = el_calloc((size_t)m->n_matrices, sizeof *ws, err);
    if (!ws) return -1;
    int nw = decode_matrices(m, ws);
    size_t total = 0;
    for (int k = 0; k < nw; k++) {
        /* a tensor met twice (a file may share one) is packed once */
        bool dup = false;
        for (int i = 0; i < k && !dup; i++) dup = ws[i] == ws[k];
        if (dup || !el_repack_wanted(ws[k])) ws[k] = NULL;
        else total += el_repack_size(ws[k]);
    }
    int rc = 0;
    if (total) m->arena = el_huge_alloc(total, err);
    if (total && !m->arena) rc = -1;
    m->arena_bytes = m->arena ? total : 0;
    el_threads *tp = rc || !total ? NULL : el_threads_new(el_physical_cores(), err);   /* NULL: pack on this thread */
    size_t off = 0;
    for (int k = 0; k < nw && !rc && m->arena; k++) {
        if (!ws[k]) continue;
        el_packed *p = el_repack(ws[k], tp, m->gguf->owns_map == 1, m->arena + off, err);
        if (!p) {
            rc = -1;
            break;
        }
        off += el_packed_bytes(p);
        m->packed[ws[k] - m->gguf->tensors] = p;
        m->packed_bytes += el_packed_bytes(p);
        m->n_packed++;
    }
    el_threads_free(tp);
    free(ws);
    if (m->n_packed) {
        int64_t huge = el_huge_resident(m->arena, m->arena_bytes);
        char pages[48] = "";
        if (huge >= 0) snprintf(pages, sizeof pages, ", %.0f%% in huge pages", 100.0 * (double)huge / (double)m->arena_bytes);
        snprintf(m->kernels, sizeof m->kernels, "packed %s: %d of %d matrices (%.1f MiB%s)",
                 el_pk_isa_name(el_repack_isa()), m->n_packed, m->n_matrices, (double)m->packed_bytes / 1048576.0, pages);
    }
    return rc;
}

const struct el_packed *el_model_packed(const el_model *m, const el_gguf_tensor *t)
{
    if (!m->packed || !t) return NULL;
    return m->packed[t - m->gguf->tensors];
}

static uint64_t read_bytes(const el_model *m, const el_gguf_tensor *t)
{
    const el_packed *p = el_model_packed(m, t);
    return p ? (uint64_t)el_packed_bytes(p) : t->n_bytes;
}

static const char *ftype_label(const el_model *m)
{
    /* the type of most weight bytes */
    uint64_t bytes[EL_TYPE_COUNT] = {0};
    for (uint64_t i = 0; i < m->gguf->n_tensors; i++) {
        const el_gguf_tensor *t = &m->gguf->tensors[i];
        if (t->n_dims >= 2 && t->type < EL_TYPE_COUNT) bytes[t->type] += t->n_bytes;
    }
    int best = 0;
    for (int t = 0; t < EL_TYPE_COUNT; t++)
        if (bytes[t] > bytes[best]) best = t;
    const el_type_traits *tr = el_type_info((uint32_t)best);
    return tr ? tr->name : "?";
}

el_model *el_model_load(const char *path, el_err *err)
{
    el_model *m = el_calloc(1, sizeof *m, err);
    if (!m) return NULL;
    m->gguf = el_gguf_open(path, err);
    if (!m->gguf) goto fail;
    if (read_hparams(m, err) || load_tensors(m, err)) goto fail;
    m->tok = el_tokenizer_load(m->gguf, err);
    if (!m->tok) {
        if (strncmp(err->msg, path, strlen(path)) != 0) el_err_prefix(err, "%s: vocabulary", path);
        goto fail;
    }
    if (el_tokenizer_n_vocab(m->tok) > m->hp.n_vocab) {
        el_errf(err, "%s: the vocabulary has %d tokens but token_embd.weight only %d rows", path,
                el_tokenizer_n_vocab(m->tok), m->hp.n_vocab);
        goto fail;
    }
    if (pack_weights(m, err)) goto fail;
    const el_gguf_kv *syn = el_gguf_find(m->gguf, "edgelm.synthetic");
    m->synthetic = syn && syn->type == EL_GGUF_BOOL && syn->v.b;
    for (uint64_t i = 0; i < m->gguf->n_tensors; i++) {
        m->n_params += m->gguf->tensors[i].n_elements;
        m->n_bytes += m->gguf->tensors[i].n_bytes;
    }
    const el_hparams *hp = &m->hp;
    /* the bytes decode reads per token: one embedding row and every weight
     * matrix, packed copies counted at their packed size */
    m->bytes_per_token = m->tok_embd->n_bytes / (uint64_t)hp->n_vocab + read_bytes(m, m->output);
    for (int l = 0; l < hp->n_layer; l++) {
        const el_layer *L = &m->layers[l];
        const el_gguf_tensor *ws[7] = {L->wq, L->wk, L->wv, L->wo, L->w_gate, L->w_up, L->w_down};
        for (int k = 0; k < 7; k++) m->bytes_per_token += read_bytes(m, ws[k]);
    }
    double p = (double)m->n_params;
    char size[32];
    if (p >= 1e9) snprintf(size, sizeof size, "%.1fB", p / 1e9);
    else if (p >= 1e6) snprintf(size, sizeof size, "%.0fM", p / 1e6);
    else snprintf(size, sizeof size, "%.0fK", p / 1e3);
    snprintf(m->desc, sizeof m->desc, "%s %s %s", hp->arch, size, ftype_label(m));
    return m;
fail:
    el_model_free(m);
    return NULL;
}

void el_model_free(el_model *m)
{
    if (!m) return;
    el_tokenizer_free(m->tok);
    free(m->layers);
    if (m->packed)
        for (uint64_t i = 0; i < m->gguf->n_tensors; i++) el_packed_free(m->packed[i]);
    free(m->packed);
    el_huge_free(m->arena, m->arena_bytes);
    el_gguf_close(m->gguf);
    free(m);
}

const el_hparams *el_model_hparams(const el_model *m) { return &m->hp; }
const el_tokenizer *el_model_tokenizer(const el_model *m) { return m->tok; }
const el_gguf *el_model_gguf(const el_model *m) { return m->gguf; }
const char *el_model_path(const el_model *m) { return m->gguf->path; }
bool el_model_is_synthetic(const el_model *m) { return m->synthetic; }
uint64_t el_model_n_params(const el_model *m) { return m->n_params; }
uint64_t el_model_n_bytes(const el_model *m) { return m->n_bytes; }
const char *el_model_desc(const el_model *m) { return m->desc; }
uint64_t el_model_bytes_per_token(const el_model *m) { return m->bytes_per_token; }
const char *el_model_kernels(const el_model *m) { return m->kernels[0] ? m->kernels : "row kernels"; }
