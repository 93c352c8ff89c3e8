/* fuzz_tokenize.c -- the three tokenizers on arbitrary text.
 *
 * Input: byte 0 picks the vocabulary (SentencePiece, byte-level BPE with one
 * of the pre-tokenizers, or WordPiece) and byte 1 the flags (add_special,
 * parse_special, render_special); the rest is the text. The small
 * vocabularies are serialised here as GGUF bytes and read back with
 * el_gguf_open_memory (self-contained: nothing is read from disk). Then:
 * tokenize (also into a too-small buffer), check every id is in range,
 * render every piece and detokenize. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgelm/gguf.h"
#include "edgelm/tokenizer.h"

/* ---- a tiny GGUF v3 serialiser (metadata only) ---- */
typedef struct fbuf {
    uint8_t *p;
    size_t n, cap;
} fbuf;

static void fb_put(fbuf *b, const void *d, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = (b->n + n) * 2 + 256;
        uint8_t *p = realloc(b->p, cap);
        if (!p) abort();
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void fb_u32(fbuf *b, uint32_t v) { fb_put(b, &v, 4); }
static void fb_u64(fbuf *b, uint64_t v) { fb_put(b, &v, 8); }
static void fb_str(fbuf *b, const char *s)
{
    fb_u64(b, strlen(s));
    fb_put(b, s, strlen(s));
}
static void kv_str(fbuf *b, const char *k, const char *v)
{
    fb_str(b, k);
    fb_u32(b, EL_GGUF_STRING);
    fb_str(b, v);
}
static void kv_u32(fbuf *b, const char *k, uint32_t v)
{
    fb_str(b, k);
    fb_u32(b, EL_GGUF_UINT32);
    fb_u32(b, v);
}
static void kv_bool(fbuf *b, const char *k, bool v)
{
    fb_str(b, k);
    fb_u32(b, EL_GGUF_BOOL);
    uint8_t x = v;
    fb_put(b, &x, 1);
}
static void kv_strs(fbuf *b, const char *k, char **v, uint64_t n)
{
    fb_str(b, k);
    fb_u32(b, EL_GGUF_ARRAY);
    fb_u32(b, EL_GGUF_STRING);
    fb_u64(b, n);
    for (uint64_t i = 0; i < n; i++) fb_str(b, v[i]);
}
static void kv_arr32(fbuf *b, const char *k, el_gguf_vtype t, const void *v, uint64_t n)
{
    fb_str(b, k);
    fb_u32(b, EL_GGUF_ARRAY);
    fb_u32(b, t);
    fb_u64(b, n);
    fb_put(b, v, 4 * n);
}

/* ---- the vocabularies ---- */
#define MAXT 512
typedef struct vocab {
    char *tok[MAXT];
    int32_t type[MAXT];
    float score[MAXT];
    int n;
} vocab;

static void add(vocab *v, const char *s, int32_t type, float score)
{
    v->tok[v->n] = strdup(s);
    v->type[v->n] = type;
    v->score[v->n] = score;
    v->n++;
}

static size_t utf8(uint32_t c, char *o)
{
    if (c < 0x80) return o[0] = (char)c, 1;
    return o[0] = (char)(0xc0 | (c >> 6)), o[1] = (char)(0x80 | (c & 0x3f)), 2;
}

/* GPT-2 byte -> symbol (printable Latin-1 keep their code, others 256+) */
static uint32_t byte_cpt(int b)
{
    int n = 0;
    for (int c = 0; c < 256; c++) {
        bool pr = (c >= 0x21 && c <= 0x7e) || (c >= 0xa1 && c <= 0xac) || c >= 0xae;
        if (c == b) return pr ? (uint32_t)c : (uint32_t)(256 + n);
        if (!pr) n++;
    }
    return 0;
}

static const char *const pres[] = {"default", "llama-bpe", "qwen2", "gpt-2", "deepseek-llm", "deepseek-coder",
                                   "falcon", "starcoder", "refact", "mpt", "qwen35", "tekken", "gpt-4o", "poro-chat"};

static fbuf build(int kind, int pre)
{
    fbuf b = {0};
    vocab v = {0};
    fb_u32(&b, EL_GGUF_MAGIC);
    fb_u32(&b, 3);
    fb_u64(&b, 0); // tensors
    uint64_t n_kv_at = b.n;
    fb_u64(&b, 0); // kv count, patched below
    uint64_t n_kv = 0;
    char s[16];
    if (kind == 0) { // SentencePiece
        add(&v, "<unk>", 2, 0), add(&v, "<s>", 3, 0), add(&v, "</s>", 3, 0);
        for (int i = 0; i < 256; i++) snprintf(s, sizeof s, "<0x%02X>", i), add(&v, s, 6, 0);
        const char *p[] = {"\xe2\x96\x81", "\xe2\x96\x81t", "he", "\xe2\x96\x81the", "a", "b", "c", "t", "h", "e",
                           "\xe2\x96\x81\xe2\x96\x81", "ab", "abc", "\xc3\xa9", "\xe2\x96\x81" "a", NULL};
        for (int i = 0; p[i]; i++) add(&v, p[i], 1, -(float)i);
        add(&v, "<|user|>", 4, 0), add(&v, "<|im_end|>", 3, 0);
        kv_str(&b, "tokenizer.ggml.model", "llama"), n_kv++;
        kv_arr32(&b, "tokenizer.ggml.scores", EL_GGUF_FLOAT32, v.score, (uint64_t)v.n), n_kv++;
        kv_bool(&b, "tokenizer.ggml.add_eos_token", pre & 1), n_kv++;
    } else if (kind == 1) { // byte-level BPE
        for (int i = 0; i < 256; i++) {
            size_t k = utf8(byte_cpt(i), s);
            s[k] = 0;
            add(&v, s, 1, 0);
        }
        const char *merges[] = {"\xc4\xa0 t", "h e", "\xc4\xa0t he", "i n", "\xc4\xa0 a", "e r", "\xc4\xa0 \xc4\xa0",
                                "1 2", "\xc3\x83 \xc2\xa9", NULL};
        for (int i = 0; merges[i]; i++) {
            char m[32];
            size_t k = 0;
            for (const char *q = merges[i]; *q; q++)
                if (*q != ' ') m[k++] = *q;
            m[k] = 0;
            add(&v, m, 1, 0);
        }
        add(&v, "<|endoftext|>", 3, 0), add(&v, "<|im_start|>", 3, 0), add(&v, "<think>", 4, 0);
        kv_str(&b, "tokenizer.ggml.model", "gpt2"), n_kv++;
        kv_str(&b, "tokenizer.ggml.pre", pres[pre % (int)(sizeof pres / sizeof pres[0])]), n_kv++;
        kv_strs(&b, "tokenizer.ggml.merges", (char **)merges, 9), n_kv++;
        kv_u32(&b, "tokenizer.ggml.bos_token_id", (uint32_t)v.n - 3), n_kv++;
        kv_u32(&b, "tokenizer.ggml.eos_token_id", (uint32_t)v.n - 3), n_kv++;
    } else { // WordPiece
        const char *p[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", NULL};
        for (int i = 0; p[i]; i++) add(&v, p[i], 3, 0);
        const char *w[] = {"\xe2\x96\x81hello", "\xe2\x96\x81the", "\xe2\x96\x81" "a", "lo", "ing", "\xe2\x96\x81" "cafe",
                           "\xe2\x96\x81,", "\xe2\x96\x81.", "\xe2\x96\x81!", "s", "\xe2\x96\x81\xe4\xb8\xad", NULL};
        for (int i = 0; w[i]; i++) add(&v, w[i], 1, 0);
        kv_str(&b, "tokenizer.ggml.model", "bert"), n_kv++;
        kv_u32(&b, "tokenizer.ggml.unknown_token_id", 1), n_kv++;
        kv_u32(&b, "tokenizer.ggml.cls_token_id", 2), n_kv++;
        kv_u32(&b, "tokenizer.ggml.seperator_token_id", 3), n_kv++;
        kv_u32(&b, "tokenizer.ggml.bos_token_id", 2), n_kv++;
        kv_bool(&b, "tokenizer.ggml.normalizer.lowercase", !(pre & 1)), n_kv++;
    }
    kv_strs(&b, "tokenizer.ggml.tokens", v.tok, (uint64_t)v.n), n_kv++;
    kv_arr32(&b, "tokenizer.ggml.token_type", EL_GGUF_INT32, v.type, (uint64_t)v.n), n_kv++;
    memcpy(b.p + n_kv_at, &n_kv, 8);
    for (int i = 0; i < v.n; i++) free(v.tok[i]);
    return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    int kind = data[0] % 3, pre = data[0] / 3;
    bool add_special = data[1] & 1, parse_special = data[1] & 2, render = data[1] & 4;
    const char *text = (const char *)data + 2;
    size_t len = size - 2;

    fbuf b = build(kind, pre);
    el_err err;
    el_gguf *g = el_gguf_open_memory(b.p, b.n, "fuzz-vocab.gguf", &err);
    if (!g) {
        fprintf(stderr, "fuzz_tokenize: vocabulary does not open: %s\n", err.msg);
        abort();
    }
    el_tokenizer *t = el_tokenizer_load(g, &err);
    el_gguf_close(g);
    if (!t) {
        fprintf(stderr, "fuzz_tokenize: vocabulary does not load: %s\n", err.msg);
        abort();
    }
    int32_t small[4];
    int64_t n = el_tokenize(t, text, len, add_special, parse_special, small, 4, &err);
    if (n < 0) abort();
    int32_t *ids = malloc((size_t)(n ? n : 1) * sizeof *ids);
    if (!ids) abort();
    if (el_tokenize(t, text, len, add_special, parse_special, ids, n, &err) != n) abort();
    for (int64_t i = 0; i < n && i < 4; i++)
        if (ids[i] != small[i]) abort(); // the short buffer holds the same prefix
    int32_t nv = el_tokenizer_n_vocab(t);
    char piece[256];
    for (int64_t i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= nv) abort();
        int k = el_token_to_piece(t, ids[i], render, piece, sizeof piece);
        if (k < 0) abort();
    }
    char *back = el_detokenize(t, ids, (size_t)n, render, &err);
    if (!back) abort();
    free(back);
    free(ids);
    el_tokenizer_free(t);
    free(b.p);
    return 0;
}
