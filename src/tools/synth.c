/* synth.c -- synthetic GGUF models with the exact layout of real ones.
 *
 * The tensor names, shapes, types and metadata keys are the ones llama.cpp's
 * converter (convert_hf_to_gguf.py) and quantiser write for the named model;
 * the weights are seeded random numbers with the spread of trained weights
 * (std ~0.02), so speed and memory behave as with the real file. Quantised
 * tensors are filled block by block with random codes and sane fp16 scales,
 * which is as fast as writing memory. The file says edgelm.synthetic = true. */
#include "edgelm/tools.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/quant_blocks.h"

/* ---- the models ---------------------------------------------------------- */

typedef struct special_tok {
    int32_t id;
    const char *text;
} special_tok;

typedef struct synth_model {
    const char *like;          /* --like name */
    const char *arch;          /* general.architecture */
    const char *name;          /* general.name */
    const char *basename, *size_label;
    int32_t n_vocab, n_embd, n_layer, n_head, n_head_kv, n_ff, n_ctx;
    float rope_base, rms_eps;
    bool tied;                 /* no output.weight: token_embd is reused */
    bool qkv_bias;             /* qwen2 */
    bool head_dim_key;         /* config has head_dim: key_length/value_length written */
    /* Llama 3 rope scaling, stored as the rope_freqs tensor (factor 0 = none) */
    float rope_factor, rope_low, rope_high;
    int32_t rope_orig_ctx;
    const char *pre;           /* tokenizer.ggml.pre */
    int32_t bos, eos, pad;     /* -1: not written */
    bool add_bos;
    const special_tok *specials;
    int32_t special_range_lo, special_range_hi;   /* reserved specials filled in [lo, hi) */
    const char *special_fmt;
} synth_model;

static const special_tok smollm2_specials[] = {
    {0, "<|endoftext|>"}, {1, "<|im_start|>"}, {2, "<|im_end|>"}, {3, "<repo_name>"},
    {4, "<reponame>"}, {5, "<file_sep>"}, {6, "<filename>"}, {7, "<gh_stars>"},
    {8, "<issue_start>"}, {9, "<issue_comment>"}, {10, "<issue_closed>"}, {11, "<jupyter_start>"},
    {12, "<jupyter_text>"}, {13, "<jupyter_code>"}, {14, "<jupyter_output>"}, {15, "<jupyter_script>"},
    {16, "<empty_output>"}, {-1, NULL}};
static const special_tok llama3_specials[] = {
    {128000, "<|begin_of_text|>"}, {128001, "<|end_of_text|>"}, {128006, "<|start_header_id|>"},
    {128007, "<|end_header_id|>"}, {128008, "<|eom_id|>"}, {128009, "<|eot_id|>"},
    {128010, "<|python_tag|>"}, {-1, NULL}};
static const special_tok qwen25_specials[] = {
    {151643, "<|endoftext|>"}, {151644, "<|im_start|>"}, {151645, "<|im_end|>"},
    {151646, "<|object_ref_start|>"}, {151647, "<|object_ref_end|>"}, {151648, "<|box_start|>"},
    {151649, "<|box_end|>"}, {151650, "<|quad_start|>"}, {151651, "<|quad_end|>"},
    {151652, "<|vision_start|>"}, {151653, "<|vision_end|>"}, {151654, "<|vision_pad|>"},
    {151655, "<|image_pad|>"}, {151656, "<|video_pad|>"}, {151657, "<tool_call>"},
    {151658, "</tool_call>"}, {151659, "<|fim_prefix|>"}, {151660, "<|fim_middle|>"},
    {151661, "<|fim_suffix|>"}, {151662, "<|fim_pad|>"}, {151663, "<|repo_name|>"},
    {151664, "<|file_sep|>"}, {-1, NULL}};

/* Hyperparameters as in each model's config.json on Hugging Face. */
static const synth_model g_models[] = {
    {"smollm2-135m", "llama", "SmolLM2 135M", "SmolLM2", "135M", 49152, 576, 30, 9, 3, 1536, 8192,
     100000.0f, 1e-5f, true, false, false, 0, 0, 0, 0, "smollm", 0, 0, -1, false, smollm2_specials, 0, 0,
     NULL},
    {"llama-3.2-1b", "llama", "Llama 3.2 1B", "Llama-3.2", "1B", 128256, 2048, 16, 32, 8, 8192, 131072,
     500000.0f, 1e-5f, true, false, true, 32.0f, 1.0f, 4.0f, 8192, "llama-bpe", 128000, 128001, -1, true,
     llama3_specials, 128002, 128256, "<|reserved_special_token_%d|>"},
    {"llama-3.1-8b", "llama", "Llama 3.1 8B", "Llama-3.1", "8B", 128256, 4096, 32, 32, 8, 14336, 131072,
     500000.0f, 1e-5f, false, false, false, 8.0f, 1.0f, 4.0f, 8192, "llama-bpe", 128000, 128001, -1, true,
     llama3_specials, 128002, 128256, "<|reserved_special_token_%d|>"},
    {"qwen2.5-0.5b", "qwen2", "Qwen2.5 0.5B", "Qwen2.5", "0.5B", 151936, 896, 24, 14, 2, 4864, 32768,
     1000000.0f, 1e-6f, true, true, false, 0, 0, 0, 0, "qwen2", 151643, 151643, 151643, false,
     qwen25_specials, 151665, 151936, "[PAD%d]"},
};
#define N_MODELS (sizeof g_models / sizeof g_models[0])

const char *const *el_synth_models(void)
{
    static const char *names[N_MODELS + 1];
    for (size_t i = 0; i < N_MODELS; i++) names[i] = g_models[i].like;
    names[N_MODELS] = NULL;
    return names;
}

/* ---- seeded random numbers (xoshiro256**, seeded by splitmix64) ----------- */

typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}

/* One stream per tensor: the weights of a tensor do not depend on the order
 * tensors are generated in, nor on the thread count. */
static void rng_seed(rng *r, uint64_t seed, const char *tensor)
{
    uint64_t x = seed ^ fnv1a(tensor);
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0], s[3] ^= s[1], s[1] ^= s[2], s[0] ^= s[3], s[2] ^= t, s[3] = rotl(s[3], 45);
    return res;
}

/* Approximately normal: the sum of four 16-bit uniforms (Irwin-Hall),
 * rescaled to unit variance. Cheap, and plenty for random weights. */
static float rng_normal(rng *r, float mean, float std)
{
    uint64_t x = rng_next(r);
    float s = (float)(x & 0xffff) + (float)((x >> 16) & 0xffff) + (float)((x >> 32) & 0xffff) + (float)(x >> 48);
    /* mean 4 * 32767.5, variance 4 * (65536^2 - 1) / 12 */
    return mean + std * (s - 131070.0f) * (1.0f / 37837.23f);
}

/* ---- tensor contents ------------------------------------------------------ */

#define WEIGHT_STD 0.02f

static void put_f16(uint8_t *p, float v)
{
    uint16_t h = el_fp32_to_fp16(v);
    memcpy(p, &h, 2);
}

/* Random codes with fp16 scales chosen so that the decoded weights have a
 * spread close to WEIGHT_STD (code spreads: uniform 4-bit ~4.6, 5-bit ~9.2,
 * 8-bit ~73, 6-bit scales ~18). */
static void fill_quant_block(el_type t, uint8_t *b, size_t size, rng *r)
{
    for (size_t i = 0; i < size; i += 8) {
        uint64_t v = rng_next(r);
        memcpy(b + i, &v, size - i < 8 ? size - i : 8);
    }
    switch (t) {
    case EL_TYPE_Q4_0: put_f16(b, WEIGHT_STD / 4.6f); break;
    case EL_TYPE_Q5_0: put_f16(b, WEIGHT_STD / 9.2f); break;
    case EL_TYPE_Q8_0: put_f16(b, WEIGHT_STD / 73.0f); break;
    case EL_TYPE_Q4_1: put_f16(b, WEIGHT_STD / 4.6f), put_f16(b + 2, -7.5f * WEIGHT_STD / 4.6f); break;
    case EL_TYPE_Q5_1: put_f16(b, WEIGHT_STD / 9.2f), put_f16(b + 2, -15.5f * WEIGHT_STD / 9.2f); break;
    case EL_TYPE_Q4_K: {
        float d = WEIGHT_STD / (31.5f * 4.6f);
        put_f16(b, d), put_f16(b + 2, d * 7.5f);
        break;
    }
    case EL_TYPE_Q5_K: {
        float d = WEIGHT_STD / (31.5f * 9.2f);
        put_f16(b, d), put_f16(b + 2, d * 15.5f);
        break;
    }
    case EL_TYPE_Q6_K: put_f16(b + offsetof(el_block_q6_K, d), WEIGHT_STD / (74.0f * 18.5f)); break;
    default: break;
    }
}

typedef struct synth_tensor {
    char name[96];
    el_type type;
    uint32_t n_dims;
    int64_t ne[2];
    enum { FILL_WEIGHT, FILL_NORM, FILL_BIAS, FILL_ROPE_FREQS } fill;
    void *data;
    size_t n_bytes;
} synth_tensor;

typedef struct synth_job {
    const synth_model *m;
    synth_tensor *t;
    size_t n;
    uint64_t seed;
    const float *rope_factors;
} synth_job;

static void fill_tensor(const synth_job *j, synth_tensor *t)
{
    rng r;
    rng_seed(&r, j->seed, t->name);
    int64_t n = t->ne[0] * (t->n_dims > 1 ? t->ne[1] : 1);
    const el_type_traits *tr = el_type_info(t->type);
    if (tr->is_quantized) {
        size_t nb = (size_t)(n / tr->block_size);
        for (size_t i = 0; i < nb; i++) fill_quant_block(t->type, (uint8_t *)t->data + i * tr->type_size, tr->type_size, &r);
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        float v;
        switch (t->fill) {
        case FILL_NORM: v = rng_normal(&r, 1.0f, 0.1f); break;
        case FILL_BIAS: v = rng_normal(&r, 0.0f, 0.1f); break;
        case FILL_ROPE_FREQS: v = j->rope_factors[i]; break;
        default: v = rng_normal(&r, 0.0f, WEIGHT_STD); break;
        }
        if (t->type == EL_TYPE_F32) ((float *)t->data)[i] = v;
        else if (t->type == EL_TYPE_F16) ((uint16_t *)t->data)[i] = el_fp32_to_fp16(v);
        else ((uint16_t *)t->data)[i] = el_fp32_to_bf16(v);
    }
}

static void fill_range(void *arg, int64_t b, int64_t e, int ith)
{
    (void)ith;
    synth_job *j = arg;
    for (int64_t i = b; i < e; i++) fill_tensor(j, &j->t[i]);
}

/* Llama 3's frequency factors (what the converter stores in rope_freqs):
 * 1 for short wavelengths, `factor` for long ones, a smooth blend between. */
static void llama3_rope_factors(const synth_model *m, int head_dim, float *out)
{
    double lo_wavelen = m->rope_orig_ctx / m->rope_low, hi_wavelen = m->rope_orig_ctx / m->rope_high;
    for (int i = 0; i < head_dim / 2; i++) {
        double freq = 1.0 / pow(m->rope_base, 2.0 * i / head_dim);
        double wavelen = 2.0 * M_PI / freq;
        double f;
        if (wavelen < hi_wavelen) f = 1.0;
        else if (wavelen > lo_wavelen) f = m->rope_factor;
        else {
            double smooth = (m->rope_orig_ctx / wavelen - m->rope_low) / (m->rope_high - m->rope_low);
            f = 1.0 / ((1.0 - smooth) / m->rope_factor + smooth);
        }
        out[i] = (float)f;
    }
}

/* ---- tokenizer metadata --------------------------------------------------- */

/* GPT-2's byte -> printable code point mapping (bytes that are printable
 * Latin-1 map to themselves, the others to U+0100 onwards). */
static int byte_codepoint(int b)
{
    bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    if (printable) return b;
    int k = 0;
    for (int x = 0; x < b; x++) {
        bool p = (x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF);
        if (!p) k++;
    }
    return 256 + k;
}

static int utf8_put(char *s, int cp)
{
    if (cp < 0x80) return s[0] = (char)cp, 1;
    if (cp < 0x800) return s[0] = (char)(0xC0 | (cp >> 6)), s[1] = (char)(0x80 | (cp & 63)), 2;
    s[0] = (char)(0xE0 | (cp >> 12)), s[1] = (char)(0x80 | ((cp >> 6) & 63)), s[2] = (char)(0x80 | (cp & 63));
    return 3;
}

typedef struct str_set {
    char **slot;
    size_t cap;
} str_set;

static bool set_insert(str_set *s, char *str)
{
    size_t h = (size_t)fnv1a(str) & (s->cap - 1);
    while (s->slot[h]) {
        if (strcmp(s->slot[h], str) == 0) return false;
        h = (h + 1) & (s->cap - 1);
    }
    s->slot[h] = str;
    return true;
}

typedef struct vocab {
    char **tok;
    int32_t *type;
    char **merges;
    size_t n_merges;
    int32_t n;
} vocab;

static void vocab_free(vocab *v)
{
    if (v->tok)
        for (int32_t i = 0; i < v->n; i++) free(v->tok[i]);
    if (v->merges)
        for (size_t i = 0; i < v->n_merges; i++) free(v->merges[i]);
    free(v->tok), free(v->type), free(v->merges);
    memset(v, 0, sizeof *v);
}

/* A byte-level BPE vocabulary of the model's size: its special tokens at their
 * real ids, the 256 byte symbols, and merged tokens (each with the merge that
 * makes it, so the vocabulary is a valid BPE). */
static int synth_vocab(const synth_model *m, uint64_t seed, vocab *v, el_err *err)
{
    v->n = m->n_vocab;
    v->tok = calloc((size_t)v->n, sizeof *v->tok);
    v->type = calloc((size_t)v->n, sizeof *v->type);
    v->merges = calloc((size_t)v->n, sizeof *v->merges);
    str_set set = {.cap = 1};
    while (set.cap < (size_t)v->n * 4) set.cap <<= 1;
    set.slot = calloc(set.cap, sizeof *set.slot);
    if (!v->tok || !v->type || !v->merges || !set.slot) {
        free(set.slot);
        vocab_free(v);
        return el_errf(err, "synth: out of memory building a %d-token vocabulary", m->n_vocab);
    }
    for (const special_tok *s = m->specials; s->text; s++) {
        v->tok[s->id] = strdup(s->text);
        v->type[s->id] = 3;   /* CONTROL */
    }
    for (int32_t id = m->special_range_lo; id < m->special_range_hi; id++) {
        if (v->tok[id]) continue;
        char buf[64];
        snprintf(buf, sizeof buf, m->special_fmt, m->special_fmt[0] == '[' ? id : id - m->special_range_lo);
        v->tok[id] = strdup(buf);
        v->type[id] = m->special_fmt[0] == '[' ? 5 /* UNUSED */ : 3;
    }
    rng r;
    rng_seed(&r, seed, "tokenizer");
    int32_t next = 0, n_bytes = 0;
    int32_t byte_ids[256];
    int ok = 0;
    for (int32_t id = 0; id < v->n; id++) {
        if (v->tok[id]) {
            if (!set_insert(&set, v->tok[id])) goto oom;
            continue;
        }
        char buf[256];
        if (n_bytes < 256) {
            buf[utf8_put(buf, byte_codepoint(n_bytes))] = 0;
            byte_ids[n_bytes++] = id;
            if (!(v->tok[id] = strdup(buf)) || !set_insert(&set, v->tok[id])) goto oom;
        } else {
            /* merge an earlier token with a byte symbol; retry on duplicates */
            for (;;) {
                int32_t a = (int32_t)(rng_next(&r) % (uint64_t)next);
                const char *left = v->tok[a];
                if (v->type[a] != 1 || strlen(left) > 24) left = v->tok[byte_ids[rng_next(&r) % 256]];
                const char *right = v->tok[byte_ids[rng_next(&r) % 256]];
                snprintf(buf, sizeof buf, "%s%s", left, right);
                char *cand = strdup(buf);
                if (!cand) goto oom;
                if (set_insert(&set, cand)) {
                    char mbuf[300];
                    v->tok[id] = cand;
                    snprintf(mbuf, sizeof mbuf, "%s %s", left, right);
                    if (!(v->merges[v->n_merges++] = strdup(mbuf))) goto oom;
                    break;
                }
                free(cand);
            }
        }
        v->type[id] = 1;   /* NORMAL */
        next = id + 1;
    }
    ok = 1;
oom:
    free(set.slot);
    if (!ok) {
        vocab_free(v);
        return el_errf(err, "synth: out of memory building a %d-token vocabulary", m->n_vocab);
    }
    return 0;
}

/* Copy tokenizer.* from a vocabulary GGUF, padding the token list up to the
 * model's size with [PADn] tokens of type UNUSED (as the converter does for
 * padded embedding matrices). */
static int copy_vocab(el_gguf_writer *w, const char *path, int32_t n_vocab, el_err *err)
{
    el_gguf *g = el_gguf_open(path, err);
    if (!g) return -1;
    int rc = -1;
    const el_gguf_kv *toks = el_gguf_get_arr(g, "tokenizer.ggml.tokens", EL_GGUF_STRING, err);
    if (!toks) goto done;
    if (toks->arr_n > (uint64_t)n_vocab) {
        el_errf(err, "%s: vocabulary has %llu tokens, more than the model's %d", path,
                (unsigned long long)toks->arr_n, n_vocab);
        goto done;
    }
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const el_gguf_kv *kv = &g->kv[i];
        if (strncmp(kv->key, "tokenizer.", 10) != 0) continue;
        bool per_token = strcmp(kv->key, "tokenizer.ggml.tokens") == 0 || strcmp(kv->key, "tokenizer.ggml.token_type") == 0 ||
                         strcmp(kv->key, "tokenizer.ggml.scores") == 0;
        if (!per_token || toks->arr_n == (uint64_t)n_vocab) {
            if (el_gguf_writer_copy_kv(w, g, kv, err)) goto done;
            continue;
        }
        if (strcmp(kv->key, "tokenizer.ggml.tokens") == 0) {
            const char **s = calloc((size_t)n_vocab, sizeof *s);
            uint64_t *len = calloc((size_t)n_vocab, sizeof *len);
            char (*pad)[32] = calloc((size_t)n_vocab - toks->arr_n + 1, 32);
            int r = -1;
            if (s && len && pad) {
                for (uint64_t k = 0; k < (uint64_t)n_vocab; k++) {
                    if (k < toks->arr_n) s[k] = toks->arr_str[k].data, len[k] = toks->arr_str[k].len;
                    else {
                        char *p = pad[k - toks->arr_n];
                        snprintf(p, 32, "[PAD%llu]", (unsigned long long)k % 100000000000ull);
                        s[k] = p, len[k] = strlen(p);
                    }
                }
                r = el_gguf_writer_set_str_arr(w, kv->key, s, len, (uint64_t)n_vocab, err);
            } else {
                el_errf(err, "synth: out of memory padding the vocabulary");
            }
            free(s), free(len), free(pad);
            if (r) goto done;
        } else {
            /* int32 token types / float32 scores: pad with UNUSED / 0 */
            size_t es = 4;
            uint8_t *buf = calloc((size_t)n_vocab, es);
            if (!buf) {
                el_errf(err, "synth: out of memory padding the vocabulary");
                goto done;
            }
            const uint8_t *src = kv->arr_data;
            memcpy(buf, src, (size_t)toks->arr_n * es);
            if (kv->arr_type == EL_GGUF_INT32)
                for (uint64_t k = toks->arr_n; k < (uint64_t)n_vocab; k++) ((int32_t *)buf)[k] = 5;
            int r = el_gguf_writer_set_arr(w, kv->key, kv->arr_type, buf, (uint64_t)n_vocab, err);
            free(buf);
            if (r) goto done;
        }
    }
    rc = 0;
done:
    el_gguf_close(g);
    return rc;
}

/* ---- the file ------------------------------------------------------------- */

static const synth_model *find_model(const char *like)
{
    for (size_t i = 0; i < N_MODELS; i++)
        if (strcasecmp(g_models[i].like, like) == 0) return &g_models[i];
    return NULL;
}

static int add_tensor_desc(synth_tensor *ts, size_t *n, const char *name, int64_t ne0, int64_t ne1, int fill)
{
    synth_tensor *t = &ts[(*n)++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->n_dims = ne1 ? 2 : 1;
    t->ne[0] = ne0;
    t->ne[1] = ne1 ? ne1 : 1;
    t->fill = fill;
    return 0;
}

int el_synth_write(const el_synth_opts *o, const char *out_path, el_threads *tp, el_err *err)
{
    const synth_model *m = find_model(o->like);
    if (!m) {
        char list[256] = "";
        for (size_t i = 0; i < N_MODELS; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", g_models[i].like);
        return el_errf(err, "synth: unknown model '%s' (known: %s)", o->like, list);
    }
    int n_layer = o->layers > 0 ? o->layers : m->n_layer;
    if (n_layer > m->n_layer) return el_errf(err, "synth: --layers %d exceeds %s's %d layers", n_layer, m->like, m->n_layer);
    int head_dim = m->n_embd / m->n_head;
    int64_t q_dim = (int64_t)m->n_head * head_dim, kv_dim = (int64_t)m->n_head_kv * head_dim;

    size_t max_t = 4 + (size_t)n_layer * 12;
    synth_tensor *ts = calloc(max_t, sizeof *ts);
    float *rope_factors = calloc((size_t)head_dim, sizeof *rope_factors);
    el_gguf_writer *w = NULL;
    vocab voc = {0};
    int rc = -1;
    size_t nt = 0;
    if (!ts || !rope_factors) {
        el_errf(err, "synth: out of memory");
        goto done;
    }
    /* tensor list, in the converter's order */
    char name[96];
    if (m->rope_factor > 0) add_tensor_desc(ts, &nt, "rope_freqs.weight", head_dim / 2, 0, FILL_ROPE_FREQS);
    add_tensor_desc(ts, &nt, "token_embd.weight", m->n_embd, m->n_vocab, FILL_WEIGHT);
    for (int l = 0; l < n_layer; l++) {
#define T(suffix, ne0, ne1, fill) \
    snprintf(name, sizeof name, "blk.%d.%s", l, suffix), add_tensor_desc(ts, &nt, name, ne0, ne1, fill)
        T("attn_norm.weight", m->n_embd, 0, FILL_NORM);
        T("ffn_down.weight", m->n_ff, m->n_embd, FILL_WEIGHT);
        T("ffn_gate.weight", m->n_embd, m->n_ff, FILL_WEIGHT);
        T("ffn_up.weight", m->n_embd, m->n_ff, FILL_WEIGHT);
        T("ffn_norm.weight", m->n_embd, 0, FILL_NORM);
        if (m->qkv_bias) T("attn_k.bias", kv_dim, 0, FILL_BIAS);
        T("attn_k.weight", m->n_embd, kv_dim, FILL_WEIGHT);
        T("attn_output.weight", q_dim, m->n_embd, FILL_WEIGHT);
        if (m->qkv_bias) T("attn_q.bias", q_dim, 0, FILL_BIAS);
        T("attn_q.weight", m->n_embd, q_dim, FILL_WEIGHT);
        if (m->qkv_bias) T("attn_v.bias", kv_dim, 0, FILL_BIAS);
        T("attn_v.weight", m->n_embd, kv_dim, FILL_WEIGHT);
#undef T
    }
    add_tensor_desc(ts, &nt, "output_norm.weight", m->n_embd, 0, FILL_NORM);
    if (!m->tied) add_tensor_desc(ts, &nt, "output.weight", m->n_embd, m->n_vocab, FILL_WEIGHT);

    size_t total = 0;
    for (size_t i = 0; i < nt; i++) {
        synth_tensor *t = &ts[i];
        int layer = 0;
        sscanf(t->name, "blk.%d.", &layer);
        t->type = el_ftype_tensor_type(o->ftype, t->name, t->n_dims, t->ne, layer, n_layer, !m->tied);
        t->n_bytes = el_row_size(t->type, t->ne[0]) * (size_t)t->ne[1];
        total += t->n_bytes;
    }
    if (!o->quiet)
        fprintf(stderr, "synth: %s (%s, %d layers), %zu tensors, %.1f MiB of random weights -> %s\n", m->like,
                el_ftype_name(o->ftype), n_layer, nt, (double)total / (1 << 20), out_path);
    for (size_t i = 0; i < nt; i++) {
        ts[i].data = malloc(ts[i].n_bytes ? ts[i].n_bytes : 1);
        if (!ts[i].data) {
            el_errf(err, "synth: cannot allocate %zu bytes for tensor '%s'", ts[i].n_bytes, ts[i].name);
            goto done;
        }
    }
    if (m->rope_factor > 0) llama3_rope_factors(m, head_dim, rope_factors);
    synth_job job = {m, ts, nt, o->seed, rope_factors};
    el_parallel_for(tp, (int64_t)nt, 1, fill_range, &job);

    /* metadata, as the converter writes it */
    w = el_gguf_writer_new(3, err);
    if (!w) goto done;
    char key[128];
#define K(fmt) (snprintf(key, sizeof key, fmt, m->arch), key)
    if (el_gguf_writer_set_str(w, "general.architecture", m->arch, err) ||
        el_gguf_writer_set_str(w, "general.type", "model", err) ||
        el_gguf_writer_set_str(w, "general.name", m->name, err) ||
        el_gguf_writer_set_str(w, "general.basename", m->basename, err) ||
        el_gguf_writer_set_str(w, "general.size_label", m->size_label, err) ||
        el_gguf_writer_set_u32(w, K("%s.block_count"), (uint32_t)n_layer, err) ||
        el_gguf_writer_set_u32(w, K("%s.context_length"), (uint32_t)m->n_ctx, err) ||
        el_gguf_writer_set_u32(w, K("%s.embedding_length"), (uint32_t)m->n_embd, err) ||
        el_gguf_writer_set_u32(w, K("%s.feed_forward_length"), (uint32_t)m->n_ff, err) ||
        el_gguf_writer_set_u32(w, K("%s.attention.head_count"), (uint32_t)m->n_head, err) ||
        el_gguf_writer_set_u32(w, K("%s.attention.head_count_kv"), (uint32_t)m->n_head_kv, err) ||
        el_gguf_writer_set_f32(w, K("%s.rope.freq_base"), m->rope_base, err) ||
        el_gguf_writer_set_f32(w, K("%s.attention.layer_norm_rms_epsilon"), m->rms_eps, err))
        goto done;
    if (m->head_dim_key && (el_gguf_writer_set_u32(w, K("%s.attention.key_length"), (uint32_t)head_dim, err) ||
                            el_gguf_writer_set_u32(w, K("%s.attention.value_length"), (uint32_t)head_dim, err)))
        goto done;
    if (el_gguf_writer_set_u32(w, "general.file_type", (uint32_t)o->ftype, err)) goto done;
    if (strcmp(m->arch, "llama") == 0 &&
        (el_gguf_writer_set_u32(w, K("%s.vocab_size"), (uint32_t)m->n_vocab, err) ||
         el_gguf_writer_set_u32(w, K("%s.rope.dimension_count"), (uint32_t)head_dim, err)))
        goto done;
#undef K
    if (o->vocab_path) {
        if (copy_vocab(w, o->vocab_path, m->n_vocab, err)) goto done;
    } else {
        if (synth_vocab(m, o->seed, &voc, err)) goto done;
        if (el_gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2", err) ||
            el_gguf_writer_set_str(w, "tokenizer.ggml.pre", m->pre, err) ||
            el_gguf_writer_set_str_arr(w, "tokenizer.ggml.tokens", (const char *const *)voc.tok, NULL,
                                       (uint64_t)voc.n, err) ||
            el_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", EL_GGUF_INT32, voc.type, (uint64_t)voc.n, err) ||
            el_gguf_writer_set_str_arr(w, "tokenizer.ggml.merges", (const char *const *)voc.merges, NULL,
                                       voc.n_merges, err))
            goto done;
        if (m->bos >= 0 && el_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)m->bos, err)) goto done;
        if (m->eos >= 0 && el_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)m->eos, err)) goto done;
        if (m->pad >= 0 && el_gguf_writer_set_u32(w, "tokenizer.ggml.padding_token_id", (uint32_t)m->pad, err))
            goto done;
        if (el_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", m->add_bos, err)) goto done;
    }
    if (el_type_info((uint32_t)el_ftype_tensor_type(o->ftype, "x.weight", 2, (int64_t[]){256, 1}, 0, 1, true))->is_quantized &&
        el_gguf_writer_set_u32(w, "general.quantization_version", 2, err))
        goto done;
    if (el_gguf_writer_set_bool(w, "edgelm.synthetic", true, err) ||
        el_gguf_writer_set_u64(w, "edgelm.synthetic.seed", o->seed, err) ||
        el_gguf_writer_set_str(w, "edgelm.synthetic.like", m->like, err))
        goto done;
    for (size_t i = 0; i < nt; i++)
        if (el_gguf_writer_add_tensor(w, ts[i].name, ts[i].type, ts[i].n_dims, ts[i].ne, ts[i].data, err)) goto done;
    if (el_gguf_writer_write(w, out_path, err)) goto done;
    if (!o->quiet) fprintf(stderr, "synth: wrote %s (%.1f MiB)\n", out_path, (double)total / (1 << 20));
    rc = 0;
done:
    el_gguf_writer_free(w);
    vocab_free(&voc);
    if (ts)
        for (size_t i = 0; i < nt; i++) free(ts[i].data);
    free(ts);
    free(rope_factors);
    return rc;
}
