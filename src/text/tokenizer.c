/* tokenizer.c -- loading a tokenizer from GGUF metadata, splitting special
 * tokens out of the text, BOS/EOS rules, token pieces and detokenisation.
 * The algorithms themselves live in tok_spm.c, tok_bpe.c and tok_wpm.c.
 *
 * Everything follows llama.cpp's llama-vocab.cpp (defaults per model type,
 * auto-detected end-of-generation tokens, special-token partitioning with
 * lstrip/rstrip, llama_detokenize's space clean-up) so that ids match its
 * reference outputs. */
#include "tok_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* hash map                                                                  */

uint64_t tok_hash(const char *s, size_t len)
{
    // FNV-1a, 64 bit
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)s[i];
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

int tok_map_init(tok_map *m, size_t expected)
{
    size_t cap = 16;
    while (cap < expected * 2 + 1) cap <<= 1;
    m->slots = calloc(cap, sizeof *m->slots);
    m->cap = m->slots ? cap : 0;
    m->n = 0;
    return m->slots ? 0 : -1;
}

void tok_map_free(tok_map *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}

static int tok_map_grow(tok_map *m)
{
    tok_map nm;
    if (tok_map_init(&nm, m->cap) != 0) return -1; // doubles capacity
    for (size_t i = 0; i < m->cap; i++) {
        tok_slot *s = &m->slots[i];
        if (!s->key) continue;
        size_t j = tok_hash(s->key, s->len) & (nm.cap - 1);
        while (nm.slots[j].key) j = (j + 1) & (nm.cap - 1);
        nm.slots[j] = *s;
        nm.n++;
    }
    free(m->slots);
    *m = nm;
    return 0;
}

static tok_slot *tok_map_find_slot(const tok_map *m, const char *key, size_t len)
{
    if (!m->cap) return NULL;
    size_t j = tok_hash(key, len) & (m->cap - 1);
    for (;;) {
        tok_slot *s = &m->slots[j];
        if (!s->key) return s;
        if (s->len == len && memcmp(s->key, key, len) == 0) return s;
        j = (j + 1) & (m->cap - 1);
    }
}

static int tok_map_insert(tok_map *m, const char *key, size_t len, int32_t val, bool overwrite)
{
    if (len > UINT32_MAX) return -1;
    if ((m->n + 1) * 2 > m->cap && tok_map_grow(m) != 0) return -1;
    tok_slot *s = tok_map_find_slot(m, key, len);
    if (s->key) {
        if (overwrite) s->val = val;
        return overwrite ? 0 : 1;
    }
    s->key = key ? key : "";
    s->len = (uint32_t)len;
    s->val = val;
    m->n++;
    return 0;
}

int tok_map_put(tok_map *m, const char *key, size_t len, int32_t val)
{
    return tok_map_insert(m, key, len, val, false);
}

int tok_map_set(tok_map *m, const char *key, size_t len, int32_t val)
{
    return tok_map_insert(m, key, len, val, true);
}

int32_t tok_map_get(const tok_map *m, const char *key, size_t len)
{
    tok_slot *s = tok_map_find_slot(m, key, len);
    return (s && s->key) ? s->val : -1;
}

void tok_ids_push(tok_ids *o, int32_t id)
{
    if (o->oom) return;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 64;
        int32_t *v = realloc(o->v, cap * sizeof *v);
        if (!v) {
            o->oom = true;
            return;
        }
        o->v = v;
        o->cap = cap;
    }
    o->v[o->n++] = id;
}

/* ------------------------------------------------------------------------ */
/* UTF-8 and the GPT-2 byte mapping                                          */

size_t tok_utf8_len(uint8_t lead)
{
    static const uint8_t lookup[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return lookup[lead >> 4];
}

uint32_t tok_cpt_from_utf8(const char *str, size_t n, size_t *off)
{
    const uint8_t *s = (const uint8_t *)str + *off;
    size_t left = n - *off;
    if (!(s[0] & 0x80)) {
        *off += 1;
        return s[0];
    }
    if ((s[0] & 0x40) && !(s[0] & 0x20)) {
        if (left >= 2 && (s[1] & 0xc0) == 0x80) {
            *off += 2;
            return ((uint32_t)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
        }
    } else if ((s[0] & 0x40) && !(s[0] & 0x10)) {
        if (left >= 3 && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80) {
            *off += 3;
            return ((uint32_t)(s[0] & 0x0f) << 12) | ((uint32_t)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
        }
    } else if ((s[0] & 0x40) && !(s[0] & 0x08)) {
        if (left >= 4 && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80) {
            *off += 4;
            return ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3f) << 12) |
                   ((uint32_t)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
        }
    }
    *off += 1;
    return 0xFFFD;
}

size_t tok_cpt_to_utf8(uint32_t c, char *o)
{
    if (c <= 0x7f) {
        o[0] = (char)c;
        return 1;
    }
    if (c <= 0x7ff) {
        o[0] = (char)(0xc0 | (c >> 6));
        o[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c <= 0xffff) {
        o[0] = (char)(0xe0 | (c >> 12));
        o[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        o[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    if (c > 0x10ffff) c = 0xFFFD;
    if (c <= 0xffff) return tok_cpt_to_utf8(c, o);
    o[0] = (char)(0xf0 | (c >> 18));
    o[1] = (char)(0x80 | ((c >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3f));
    o[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

/* GPT-2 bytes_to_unicode: printable Latin-1 bytes map to themselves, the
 * other 68 bytes to U+0100.. in byte order. */
static bool tok_byte_is_printable(int b)
{
    return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
}

uint32_t tok_byte_to_cpt(uint8_t b)
{
    if (tok_byte_is_printable(b)) return b;
    uint32_t n = 0;
    for (int c = 0; c < b; c++)
        if (!tok_byte_is_printable(c)) n++;
    return 256 + n;
}

int tok_cpt_to_byte(uint32_t cpt)
{
    if (cpt < 256) return tok_byte_is_printable((int)cpt) ? (int)cpt : -1;
    if (cpt >= 256 + 68) return -1;
    uint32_t n = 0;
    for (int c = 0; c < 256; c++) {
        if (tok_byte_is_printable(c)) continue;
        if (256 + n == cpt) return c;
        n++;
    }
    return -1;
}

/* ------------------------------------------------------------------------ */
/* loading                                                                   */

static int tok_opt_u32(const el_gguf *g, const char *key, int32_t n_vocab, int32_t *id)
{
    const el_gguf_kv *kv = el_gguf_find(g, key);
    if (!kv) return 0;
    uint32_t v;
    el_err e;
    if (el_gguf_get_u32(g, key, &v, &e) != 0) return 0; // wrong type: keep default (llama.cpp throws; we are lenient)
    if (v < (uint32_t)n_vocab) *id = (int32_t)v;
    return 0;
}

static void tok_opt_bool(const el_gguf *g, const char *key, bool *out)
{
    const el_gguf_kv *kv = el_gguf_find(g, key);
    if (!kv || kv->type != EL_GGUF_BOOL) return;
    *out = kv->v.b;
}

static int32_t tok_find(const el_tokenizer *t, const char *s)
{
    return tok_map_get(&t->tok2id, s, strlen(s));
}

static bool tok_text_is(const el_tokenizer *t, int32_t id, const char *const *list)
{
    for (; *list; list++)
        if (strlen(*list) == t->len[id] && memcmp(*list, t->text[id], t->len[id]) == 0) return true;
    return false;
}

/* llama.cpp finds EOT/EOM/FIM/EOG tokens by their text and forces them to
 * be control tokens (this changes which texts parse as specials). */
static void tok_detect_specials(el_tokenizer *t, int32_t fim_pad, int32_t fim_rep, int32_t fim_sep)
{
    static const char *const eot_names[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
        "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]",
        "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>", "<end_of_utterance>", NULL};
    static const char *const eom_names[] = {"<|eom_id|>", NULL};
    static const char *const fim_pre[] = {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",
        "<\xef\xbd\x9c" "fim\xe2\x96\x81" "begin\xef\xbd\x9c>", "<PRE>", "\xe2\x96\x81<PRE>",
        "<|code_prefix|>", "<|prefix|>", NULL};
    static const char *const fim_suf[] = {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
        "<\xef\xbd\x9c" "fim\xe2\x96\x81hole\xef\xbd\x9c>", "<SUF>", "\xe2\x96\x81<SUF>",
        "<|code_suffix|>", "<|suffix|>", NULL};
    static const char *const fim_mid[] = {"<|fim_middle|>", "<fim-middle>", "<fim_middle>",
        "<\xef\xbd\x9c" "fim\xe2\x96\x81" "end\xef\xbd\x9c>", "<MID>", "\xe2\x96\x81<MID>",
        "<|code_middle|>", "<|middle|>", NULL};
    static const char *const fim_pad_n[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]", NULL};
    static const char *const fim_rep_n[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>",
        "<reponame>", NULL};
    static const char *const fim_sep_n[] = {"<|file_sep|>", NULL};
    static const char *const eog_names[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>",
        "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>",
        "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>",
        "<turn|>", "<|tool_response>",
        "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>", "[e~[", NULL};
    static const char *const always_user[] = {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>", NULL};

    struct { const char *const *names; int32_t *id; } finders[] = {
        {eot_names, &t->eot}, {eom_names, &t->eom}, {fim_pre, NULL}, {fim_suf, NULL}, {fim_mid, NULL},
        {fim_pad_n, &fim_pad}, {fim_rep_n, &fim_rep}, {fim_sep_n, &fim_sep},
    };
    int32_t fim_dummy[3] = {-1, -1, -1};
    finders[2].id = &fim_dummy[0];
    finders[3].id = &fim_dummy[1];
    finders[4].id = &fim_dummy[2];
    for (size_t f = 0; f < sizeof finders / sizeof finders[0]; f++) {
        if (*finders[f].id >= 0) continue;
        for (int32_t id = 0; id < t->n_vocab; id++) {
            if (!tok_text_is(t, id, finders[f].names)) continue;
            *finders[f].id = id;
            t->attr[id] |= TOK_ATTR_CONTROL;
            break;
        }
    }
    // control tokens named "unused" are unused
    for (int32_t id = 0; id < t->n_vocab; id++)
        if ((t->attr[id] & TOK_ATTR_CONTROL) && memmem(t->text[id], t->len[id], "unused", 6))
            t->attr[id] |= TOK_ATTR_UNUSED;
    // end-of-generation set
    if (fim_pad >= 0) t->eog[fim_pad] = 1;
    if (fim_rep >= 0) t->eog[fim_rep] = 1;
    if (fim_sep >= 0) t->eog[fim_sep] = 1;
    for (int32_t id = 0; id < t->n_vocab; id++) {
        if (tok_text_is(t, id, eog_names)) {
            t->eog[id] = 1;
            t->attr[id] |= TOK_ATTR_CONTROL;
        }
        if (tok_text_is(t, id, always_user)) t->attr[id] = TOK_ATTR_USER_DEFINED;
    }
    if (t->eos >= 0) t->eog[t->eos] = 1;
    if (t->eot >= 0) t->eog[t->eot] = 1;
    if (t->eom >= 0) t->eog[t->eom] = 1;
    // o200k_harmony / solar-open: "<|end|>" is not EOG when <|return|>+<|call|> (or <|calls|>+<|flush|>) exist
    int32_t end_id = tok_find(t, "<|end|>"), ret = tok_find(t, "<|return|>"), call = tok_find(t, "<|call|>");
    int32_t calls = tok_find(t, "<|calls|>"), flush = tok_find(t, "<|flush|>");
    if (end_id >= 0 && t->eog[end_id] &&
        ((ret >= 0 && t->eog[ret] && call >= 0 && t->eog[call]) ||
         (calls >= 0 && t->eog[calls] && flush >= 0 && t->eog[flush]))) {
        t->eog[end_id] = 0;
        t->attr[end_id] = TOK_ATTR_USER_DEFINED;
    }
    // gemma4 / paddleocr: "</s>" is not EOG when "<|tool_response>" is
    int32_t tr = tok_find(t, "<|tool_response>"), s_id = tok_find(t, "</s>");
    if (tr >= 0 && t->eog[tr] && s_id >= 0 && t->eog[s_id]) {
        t->eog[s_id] = 0;
        t->attr[s_id] = TOK_ATTR_NORMAL;
    }
}

static int tok_cmp_len_desc(const void *a, const void *b, void *ctx)
{
    const el_tokenizer *t = ctx;
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    if (t->len[x] != t->len[y]) return t->len[x] > t->len[y] ? -1 : 1;
    return x < y ? -1 : x > y;
}

static int tok_build_special_cache(el_tokenizer *t, el_err *err)
{
    t->special = el_calloc((size_t)t->n_vocab, sizeof *t->special, err);
    if (!t->special) return -1;
    t->n_special = 0;
    for (int32_t id = 0; id < t->n_vocab; id++)
        if (t->attr[id] & (TOK_ATTR_CONTROL | TOK_ATTR_USER_DEFINED | TOK_ATTR_UNKNOWN))
            t->special[t->n_special++] = id;
    qsort_r(t->special, (size_t)t->n_special, sizeof *t->special, tok_cmp_len_desc, t);
    return 0;
}

/* Model-specific token attributes llama.cpp sets by model name. */
static void tok_name_attrs(el_tokenizer *t, const el_gguf *g)
{
    const el_gguf_kv *kv = el_gguf_find(g, "general.name");
    if (!kv || kv->type != EL_GGUF_STRING) return;
    char name[128];
    size_t n = kv->v.str.len < sizeof name - 1 ? kv->v.str.len : sizeof name - 1;
    for (size_t i = 0; i < n; i++) name[i] = (char)tolower((unsigned char)kv->v.str.data[i]);
    name[n] = 0;
    if (strstr(name, "phi-3") || strstr(name, "phi3")) {
        for (int32_t i = 0; i < t->n_special; i++) t->attr[t->special[i]] |= TOK_ATTR_RSTRIP;
        int32_t id = tok_find(t, "</s>");
        if (id >= 0) t->attr[id] |= TOK_ATTR_RSTRIP;
        const char *keep[] = {"<unk>", "<s>", "<|endoftext|>"};
        for (int k = 0; k < 3; k++)
            if ((id = tok_find(t, keep[k])) >= 0) t->attr[id] &= ~TOK_ATTR_RSTRIP;
    }
}

static int tok_piece_uncached(const el_tokenizer *t, int32_t id, char *buf, size_t cap);

static int tok_build_piece_cache(el_tokenizer *t, el_err *err)
{
    t->piece = el_calloc((size_t)t->n_vocab, sizeof *t->piece, err);
    t->piece_len = el_calloc((size_t)t->n_vocab, sizeof *t->piece_len, err);
    if (!t->piece || !t->piece_len) return -1;
    char small[256];
    for (int32_t id = 0; id < t->n_vocab; id++) {
        int n = tok_piece_uncached(t, id, small, sizeof small);
        t->piece[id] = el_malloc((size_t)n + 1, err);
        if (!t->piece[id]) return -1;
        if ((size_t)n <= sizeof small) memcpy(t->piece[id], small, (size_t)n);
        else tok_piece_uncached(t, id, t->piece[id], (size_t)n);
        t->piece[id][n] = 0;
        t->piece_len[id] = (uint32_t)n;
    }
    return 0;
}

static int tok_load_vocab(el_tokenizer *t, const el_gguf *g, el_err *err)
{
    const char *f = g->path ? g->path : "gguf";
    const el_gguf_kv *toks = el_gguf_get_arr(g, "tokenizer.ggml.tokens", EL_GGUF_STRING, err);
    if (!toks) return -1;
    if (toks->arr_n == 0 || toks->arr_n > INT32_MAX / 2)
        return el_errf(err, "%s: key 'tokenizer.ggml.tokens' has %llu entries, expected 1..%d", f,
                       (unsigned long long)toks->arr_n, INT32_MAX / 2);
    int32_t n = (int32_t)toks->arr_n;
    t->n_vocab = n;

    const el_gguf_kv *scores = el_gguf_find(g, "tokenizer.ggml.scores");
    if (scores) {
        if (scores->type != EL_GGUF_ARRAY ||
            (scores->arr_type != EL_GGUF_FLOAT32 && scores->arr_type != EL_GGUF_INT32))
            return el_errf(err, "%s: key 'tokenizer.ggml.scores' has type %s, expected an array of float32", f,
                           el_gguf_vtype_name(scores->type == EL_GGUF_ARRAY ? scores->arr_type : scores->type));
        if (scores->arr_n < (uint64_t)n)
            return el_errf(err, "%s: key 'tokenizer.ggml.scores' has %llu entries, expected %d (one per token)",
                           f, (unsigned long long)scores->arr_n, n);
    }
    const el_gguf_kv *types = el_gguf_find(g, "tokenizer.ggml.token_type");
    if (types) {
        if (types->type != EL_GGUF_ARRAY || types->arr_type != EL_GGUF_INT32)
            return el_errf(err, "%s: key 'tokenizer.ggml.token_type' has type %s, expected an array of int32", f,
                           el_gguf_vtype_name(types->type == EL_GGUF_ARRAY ? types->arr_type : types->type));
        if (types->arr_n < (uint64_t)n)
            return el_errf(err, "%s: key 'tokenizer.ggml.token_type' has %llu entries, expected %d (one per token)",
                           f, (unsigned long long)types->arr_n, n);
    }

    size_t total = 0;
    for (int32_t i = 0; i < n; i++) total += (toks->arr_str[i].len ? toks->arr_str[i].len : 24) + 1;
    t->arena = el_malloc(total, err);
    t->text = el_calloc((size_t)n, sizeof *t->text, err);
    t->len = el_calloc((size_t)n, sizeof *t->len, err);
    t->score = el_calloc((size_t)n, sizeof *t->score, err);
    t->attr = el_calloc((size_t)n, sizeof *t->attr, err);
    t->eog = el_calloc((size_t)n, 1, err);
    if (!t->arena || !t->text || !t->len || !t->score || !t->attr || !t->eog) return -1;
    if (tok_map_init(&t->tok2id, (size_t)n) != 0) return el_errf(err, "out of memory building the vocabulary map");

    char *p = t->arena;
    for (int32_t i = 0; i < n; i++) {
        const el_gguf_str *s = &toks->arr_str[i];
        size_t len = s->len;
        if (len == 0) {
            len = (size_t)snprintf(p, 24, "[EMPTY_%d]", i); // as llama.cpp
        } else {
            memcpy(p, s->data, len);
        }
        p[len] = 0;
        if (len > UINT32_MAX) return el_errf(err, "%s: token %d is too long", f, i);
        t->text[i] = p;
        t->len[i] = (uint32_t)len;
        p += len + 1;
        int r = tok_map_put(&t->tok2id, t->text[i], len, i);
        if (r < 0) return el_errf(err, "out of memory building the vocabulary map");
        if (r > 0)
            return el_errf(err, "%s: key 'tokenizer.ggml.tokens': duplicate token '%.*s' at ids %d and %d", f,
                           (int)(len < 64 ? len : 64), t->text[i], tok_map_get(&t->tok2id, t->text[i], len), i);
        if ((int)len > t->max_token_len) t->max_token_len = (int)len;
        if (scores) {
            if (scores->arr_type == EL_GGUF_FLOAT32) {
                float v;
                memcpy(&v, scores->arr_data + 4 * (size_t)i, 4);
                t->score[i] = v;
            } else {
                int32_t v;
                memcpy(&v, scores->arr_data + 4 * (size_t)i, 4);
                t->score[i] = (float)v;
            }
        }
        int32_t ty = EL_TOKEN_NORMAL;
        if (types) memcpy(&ty, types->arr_data + 4 * (size_t)i, 4);
        switch (ty) {
        case EL_TOKEN_NORMAL: t->attr[i] = TOK_ATTR_NORMAL; break;
        case EL_TOKEN_UNKNOWN: t->attr[i] = TOK_ATTR_UNKNOWN; break;
        case EL_TOKEN_CONTROL: t->attr[i] = TOK_ATTR_CONTROL; break;
        case EL_TOKEN_USER_DEFINED: t->attr[i] = TOK_ATTR_USER_DEFINED; break;
        case EL_TOKEN_UNUSED: t->attr[i] = TOK_ATTR_UNUSED; break;
        case EL_TOKEN_BYTE: t->attr[i] = TOK_ATTR_BYTE; break;
        default: t->attr[i] = TOK_ATTR_UNDEFINED; break;
        }
    }
    return 0;
}

static int tok_load_merges(el_tokenizer *t, const el_gguf *g, el_err *err)
{
    const char *f = g->path ? g->path : "gguf";
    const el_gguf_kv *m = el_gguf_find(g, "tokenizer.ggml.merges");
    if (!m) return el_errf(err, "%s: key 'tokenizer.ggml.merges' is missing (needed by a gpt2 tokenizer)", f);
    if (m->type != EL_GGUF_ARRAY || m->arr_type != EL_GGUF_STRING)
        return el_errf(err, "%s: key 'tokenizer.ggml.merges' has type %s, expected an array of strings", f,
                       el_gguf_vtype_name(m->type == EL_GGUF_ARRAY ? m->arr_type : m->type));
    if (m->arr_n > INT32_MAX) return el_errf(err, "%s: key 'tokenizer.ggml.merges' has too many entries", f);
    size_t total = 1;
    for (uint64_t i = 0; i < m->arr_n; i++) total += m->arr_str[i].len + 1;
    t->merge_arena = el_malloc(total, err);
    if (!t->merge_arena) return -1;
    if (tok_map_init(&t->merges, m->arr_n) != 0) return el_errf(err, "out of memory building the merge map");
    char *p = t->merge_arena;
    for (uint64_t i = 0; i < m->arr_n; i++) {
        const el_gguf_str *s = &m->arr_str[i];
        // llama.cpp splits at the first space after position 0; no space -> an empty pair
        const char *sp = s->len > 1 ? memchr(s->data + 1, ' ', s->len - 1) : NULL;
        size_t len = sp ? s->len : 1;
        if (sp) memcpy(p, s->data, len);
        else p[0] = ' ';
        p[len] = 0;
        if (tok_map_put(&t->merges, p, len, (int32_t)i) < 0) return el_errf(err, "out of memory building the merge map");
        p += len + 1;
    }
    return 0;
}

el_tokenizer *el_tokenizer_load(const el_gguf *g, el_err *err)
{
    const char *f = g->path ? g->path : "gguf";
    el_tokenizer *t = el_calloc(1, sizeof *t, err);
    if (!t) return NULL;
    for (int i = 0; i < 256; i++) {
        char u[4];
        t->byte_tok[i] = -1;
        t->byte_enc_len[i] = (uint8_t)tok_cpt_to_utf8(tok_byte_to_cpt((uint8_t)i), u);
        memcpy(t->byte_enc[i], u, t->byte_enc_len[i]);
    }
    t->bos = t->eos = t->unk = t->sep = t->pad = t->eot = t->eom = -1;

    char *model = NULL;
    if (el_gguf_get_str(g, "tokenizer.ggml.model", &model, err) != 0) goto fail;
    if (strcmp(model, "llama") == 0) {
        t->kind = TOK_SPM;
        t->bos = 1, t->eos = 2, t->unk = 0;
        t->add_space_prefix = true, t->add_bos = true;
    } else if (strcmp(model, "gpt2") == 0) {
        t->kind = TOK_BPE;
        t->bos = 11, t->eos = 11;
        t->clean_spaces = true;
    } else if (strcmp(model, "bert") == 0) {
        t->kind = TOK_WPM;
        t->bos = 101, t->unk = 100, t->sep = 102, t->pad = 0;
        t->clean_spaces = true, t->add_bos = true, t->add_sep = true;
    } else {
        el_errf(err, "%s: key 'tokenizer.ggml.model' is '%.64s', expected 'llama', 'gpt2' or 'bert'", f, model);
        free(model);
        goto fail;
    }
    free(model);

    const el_gguf_kv *pre = el_gguf_find(g, "tokenizer.ggml.pre");
    if (pre && pre->type == EL_GGUF_STRING) {
        t->pre = el_malloc(pre->v.str.len + 1, err);
        if (!t->pre) goto fail;
        memcpy(t->pre, pre->v.str.data, pre->v.str.len);
        t->pre[pre->v.str.len] = 0;
    } else {
        t->pre = strdup("default");
        if (!t->pre) goto fail;
    }
    if (tok_load_vocab(t, g, err) != 0) goto fail;
    for (int32_t *id = &t->bos; id <= &t->eom; id++) // defaults out of range are disabled
        if (*id >= t->n_vocab) *id = -1;

    if (t->kind == TOK_BPE) {
        if (tok_load_merges(t, g, err) != 0) goto fail;
        if (tok_bpe_init(t, err) != 0) goto fail; // sets the pre-type flags too
    }
    tok_opt_bool(g, "tokenizer.ggml.add_space_prefix", &t->add_space_prefix);

    int32_t fim_pad = -1, fim_rep = -1, fim_sep = -1, mask = -1;
    tok_opt_u32(g, "tokenizer.ggml.bos_token_id", t->n_vocab, &t->bos);
    tok_opt_u32(g, "tokenizer.ggml.eos_token_id", t->n_vocab, &t->eos);
    tok_opt_u32(g, "tokenizer.ggml.eot_token_id", t->n_vocab, &t->eot);
    tok_opt_u32(g, "tokenizer.ggml.eom_token_id", t->n_vocab, &t->eom);
    tok_opt_u32(g, "tokenizer.ggml.unknown_token_id", t->n_vocab, &t->unk);
    tok_opt_u32(g, "tokenizer.ggml.seperator_token_id", t->n_vocab, &t->sep);
    tok_opt_u32(g, "tokenizer.ggml.padding_token_id", t->n_vocab, &t->pad);
    tok_opt_u32(g, "tokenizer.ggml.mask_token_id", t->n_vocab, &mask);
    tok_opt_u32(g, "tokenizer.ggml.fim_pad_token_id", t->n_vocab, &fim_pad);
    tok_opt_u32(g, "tokenizer.ggml.fim_rep_token_id", t->n_vocab, &fim_rep);
    tok_opt_u32(g, "tokenizer.ggml.fim_sep_token_id", t->n_vocab, &fim_sep);
    tok_opt_bool(g, "tokenizer.ggml.add_bos_token", &t->add_bos);
    tok_opt_bool(g, "tokenizer.ggml.add_eos_token", &t->add_eos);
    tok_opt_bool(g, "tokenizer.ggml.add_sep_token", &t->add_sep);
    if (t->add_bos && t->bos < 0) {
        el_errf(err, "%s: key 'tokenizer.ggml.add_bos_token' is true but no BOS token id is set", f);
        goto fail;
    }
    if (t->add_eos && t->eos < 0) {
        el_errf(err, "%s: key 'tokenizer.ggml.add_eos_token' is true but no EOS token id is set", f);
        goto fail;
    }
    t->lowercase = true;
    tok_opt_bool(g, "tokenizer.ggml.normalizer.lowercase", &t->lowercase);
    t->strip_accents = t->lowercase;
    tok_opt_bool(g, "tokenizer.ggml.normalizer.strip_accents", &t->strip_accents);

    tok_detect_specials(t, fim_pad, fim_rep, fim_sep);
    if (tok_build_special_cache(t, err) != 0) goto fail;
    tok_name_attrs(t, g);

    // byte tokens
    for (int b = 0; b < 256; b++) {
        char buf[8];
        if (t->kind == TOK_SPM) {
            snprintf(buf, sizeof buf, "<0x%02X>", b);
            int32_t id = tok_find(t, buf);
            if (id < 0) id = tok_map_get(&t->tok2id, (const char[]){(char)b}, 1);
            t->byte_tok[b] = id;
        } else if (t->kind == TOK_BPE) {
            size_t n = tok_cpt_to_utf8(tok_byte_to_cpt((uint8_t)b), buf);
            t->byte_tok[b] = tok_map_get(&t->tok2id, buf, n);
        }
    }
    if (tok_build_piece_cache(t, err) != 0) goto fail;
    if (t->kind == TOK_SPM && tok_spm_init(t) != 0) {
        el_errf(err, "out of memory building the tokenizer");
        goto fail;
    }
    return t;
fail:
    el_tokenizer_free(t);
    return NULL;
}

void el_tokenizer_free(el_tokenizer *t)
{
    if (!t) return;
    if (t->kind == TOK_BPE) tok_bpe_free(t);
    if (t->kind == TOK_SPM) tok_spm_free(t);
    if (t->piece)
        for (int32_t i = 0; i < t->n_vocab; i++) free(t->piece[i]);
    free(t->piece);
    free(t->piece_len);
    free(t->special);
    free(t->eog);
    free(t->attr);
    free(t->score);
    free(t->len);
    free(t->text);
    free(t->arena);
    free(t->merge_arena);
    tok_map_free(&t->tok2id);
    tok_map_free(&t->merges);
    free(t->pre);
    free(t);
}

/* ------------------------------------------------------------------------ */
/* special-token partitioning                                                */

typedef struct tok_frag {
    int32_t token;  /* -1: raw text */
    size_t off, len;
    int32_t next;   /* index of the next fragment, -1 at the end */
} tok_frag;

typedef struct tok_frags {
    tok_frag *v;
    int32_t n, cap;
    int32_t head;
} tok_frags;

static int32_t tok_frag_new(tok_frags *fr, int32_t token, size_t off, size_t len)
{
    if (fr->n == fr->cap) {
        if (fr->cap > INT32_MAX / 2) return -1;
        int32_t cap = fr->cap ? fr->cap * 2 : 16;
        tok_frag *v = realloc(fr->v, (size_t)cap * sizeof *v);
        if (!v) return -1;
        fr->v = v;
        fr->cap = cap;
    }
    fr->v[fr->n] = (tok_frag){token, off, len, -1};
    return fr->n++;
}

/* Split every raw fragment at each occurrence of each special token, longest
 * token first (llama.cpp's tokenizer_st_partition). */
static int tok_partition(const el_tokenizer *t, const char *text, size_t len, bool parse_special,
                         tok_frags *fr)
{
    fr->head = -1;
    if (len == 0) return 0;
    fr->head = tok_frag_new(fr, -1, 0, len);
    if (fr->head < 0) return -1;
    // which bytes (and, for long texts, byte pairs) occur in the text: a
    // special token containing one that does not cannot occur either
    uint64_t bytes[4] = {0};
    for (size_t i = 0; i < len; i++) bytes[(uint8_t)text[i] >> 6] |= 1ull << ((uint8_t)text[i] & 63);
    uint64_t *pairs = NULL;
    if (t->n_special > 4 && len > 4096) {
        pairs = calloc(65536 / 64, sizeof *pairs);
        if (!pairs) return -1;
        for (size_t i = 0; i + 1 < len; i++) {
            unsigned v = (unsigned)(uint8_t)text[i] << 8 | (uint8_t)text[i + 1];
            pairs[v >> 6] |= 1ull << (v & 63);
        }
    }
    // the specials are sorted by length, longest first: skip those longer than the text
    int32_t k0 = 0, k1 = t->n_special;
    while (k0 < k1) {
        int32_t mid = k0 + (k1 - k0) / 2;
        if (t->len[t->special[mid]] > len) k0 = mid + 1;
        else k1 = mid;
    }
    for (int32_t k = k0; k < t->n_special; k++) {
        int32_t sid = t->special[k];
        const char *stext = t->text[sid];
        if (!(bytes[(uint8_t)stext[0] >> 6] >> ((uint8_t)stext[0] & 63) & 1)) continue;
        int32_t attr = t->attr[sid];
        if (!parse_special && (attr & (TOK_ATTR_CONTROL | TOK_ATTR_UNKNOWN))) continue;
        size_t slen = t->len[sid];
        bool possible = true;
        for (size_t i = 0; i < slen && possible; i++)
            possible = bytes[(uint8_t)stext[i] >> 6] >> ((uint8_t)stext[i] & 63) & 1;
        for (size_t i = 0; pairs && i + 1 < slen && possible; i++) {
            unsigned v = (unsigned)(uint8_t)stext[i] << 8 | (uint8_t)stext[i + 1];
            possible = pairs[v >> 6] >> (v & 63) & 1;
        }
        if (!possible) continue;
        if (!memmem(text, len, stext, slen)) continue; // fast skip
        int32_t prev = -1;
        for (int32_t cur = fr->head; cur >= 0;) {
            if (fr->v[cur].token >= 0) {
                prev = cur;
                cur = fr->v[cur].next;
                continue;
            }
            size_t boff = fr->v[cur].off, blen = fr->v[cur].len;
            const char *m = memmem(text + boff, blen, stext, slen);
            if (!m) {
                prev = cur;
                cur = fr->v[cur].next;
                continue;
            }
            // replace `cur` by [left] special [right], then continue in right
            int32_t after = fr->v[cur].next;
            size_t moff = (size_t)(m - text);
            int32_t first = -1, last = -1, right = -1;
            size_t left_len = moff - boff;
            if (attr & TOK_ATTR_LSTRIP)
                while (left_len > 0 && isspace((unsigned char)text[boff + left_len - 1])) left_len--;
            if (left_len > 0) {
                int32_t l = tok_frag_new(fr, -1, boff, left_len);
                if (l < 0) goto oom;
                first = last = l;
            }
            int32_t s = tok_frag_new(fr, sid, 0, 0);
            if (s < 0) goto oom;
            if (last >= 0) fr->v[last].next = s;
            else first = s;
            last = s;
            if (moff + slen < boff + blen) {
                size_t roff = moff + slen, rlen = boff + blen - roff;
                if (attr & TOK_ATTR_RSTRIP)
                    while (rlen > 0 && isspace((unsigned char)text[roff])) roff++, rlen--;
                if (rlen > 0) {
                    right = tok_frag_new(fr, -1, roff, rlen);
                    if (right < 0) goto oom;
                    fr->v[last].next = right;
                    last = right;
                }
            }
            fr->v[last].next = after;
            if (prev >= 0) fr->v[prev].next = first;
            else fr->head = first;
            if (right >= 0) {
                // the right remainder is searched next; its predecessor is the special token
                prev = s;
                cur = right;
            } else {
                prev = last;
                cur = after;
            }
        }
    }
    free(pairs);
    return 0;
oom:
    free(pairs);
    return -1;
}

int64_t el_tokenize(const el_tokenizer *t, const char *text, size_t len, bool add_special,
                    bool parse_special, int32_t *out, int64_t cap, el_err *err)
{
    if (!t) return el_errf(err, "tokenize: no tokenizer");
    if (!text && len) return el_errf(err, "tokenize: NULL text");
    tok_frags fr = {0};
    tok_ids ids = {0};
    int rc = 0;
    if (tok_partition(t, text, len, parse_special, &fr) != 0) {
        rc = el_errf(err, "tokenize: out of memory splitting %zu bytes of text", len);
        goto done;
    }
    if (t->kind == TOK_SPM) {
        bool prev_special = true; // prefix the first fragment with a space
        if (add_special && t->add_bos && t->bos >= 0) tok_ids_push(&ids, t->bos);
        for (int32_t i = fr.head; i >= 0 && rc == 0; i = fr.v[i].next) {
            if (fr.v[i].token >= 0) {
                tok_ids_push(&ids, fr.v[i].token);
                prev_special = true;
                continue;
            }
            size_t n = fr.v[i].len + (t->add_space_prefix && prev_special);
            char *buf = malloc(n ? n : 1);
            if (!buf) {
                rc = -1;
                break;
            }
            if (t->add_space_prefix && prev_special) buf[0] = ' ';
            memcpy(buf + (n - fr.v[i].len), text + fr.v[i].off, fr.v[i].len);
            rc = tok_spm_tokenize(t, buf, n, &ids);
            free(buf);
            prev_special = false;
        }
        if (add_special && t->add_eos && t->eos >= 0) tok_ids_push(&ids, t->eos);
    } else if (t->kind == TOK_BPE) {
        if (add_special && t->add_bos && t->bos >= 0) tok_ids_push(&ids, t->bos);
        for (int32_t i = fr.head; i >= 0 && rc == 0; i = fr.v[i].next) {
            if (fr.v[i].token >= 0) tok_ids_push(&ids, fr.v[i].token);
            else rc = tok_bpe_tokenize(t, text + fr.v[i].off, fr.v[i].len, &ids);
        }
        if (add_special && t->add_eos && t->eos >= 0) tok_ids_push(&ids, t->eos);
    } else {
        if (add_special && t->bos >= 0) tok_ids_push(&ids, t->bos);
        for (int32_t i = fr.head; i >= 0 && rc == 0; i = fr.v[i].next) {
            if (fr.v[i].token >= 0) tok_ids_push(&ids, fr.v[i].token);
            else rc = tok_wpm_tokenize(t, text + fr.v[i].off, fr.v[i].len, &ids);
        }
        if (add_special && t->sep >= 0) tok_ids_push(&ids, t->sep);
    }
    if (rc != 0 || ids.oom) {
        rc = el_errf(err, "tokenize: out of memory tokenizing %zu bytes of text", len);
        goto done;
    }
    if (ids.n > INT64_MAX / 2) {
        rc = el_errf(err, "tokenize: too many tokens");
        goto done;
    }
    if (out && cap > 0 && ids.n > 0) memcpy(out, ids.v, (size_t)((int64_t)ids.n < cap ? (int64_t)ids.n : cap) * sizeof *out);
done:
    free(fr.v);
    free(ids.v);
    return rc != 0 ? -1 : (int64_t)ids.n;
}

/* ------------------------------------------------------------------------ */
/* pieces and detokenisation                                                 */

static int tok_hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return 0;
}

/* "<0xAB>" -> 0xAB (as llama.cpp: characters 3 and 4 read as hex) */
static char tok_byte_value(const el_tokenizer *t, int32_t id)
{
    if (t->len[id] < 5) return 0;
    return (char)(tok_hexval(t->text[id][3]) * 16 + tok_hexval(t->text[id][4]));
}

/* writes min(total, cap) bytes; returns the total length */
static int tok_piece_uncached(const el_tokenizer *t, int32_t id, char *buf, size_t cap)
{
    int32_t attr = t->attr[id];
    const char *s = t->text[id];
    size_t n = t->len[id], o = 0;
#define PUT(c) do { if (o < cap) buf[o] = (char)(c); o++; } while (0)
    if (attr & (TOK_ATTR_UNKNOWN | TOK_ATTR_CONTROL | TOK_ATTR_USER_DEFINED)) {
        for (size_t i = 0; i < n; i++) PUT(s[i]);
    } else if (attr & TOK_ATTR_NORMAL) {
        if (t->kind == TOK_BPE) {
            for (size_t off = 0; off < n;) {
                size_t start = off;
                uint32_t c = tok_cpt_from_utf8(s, n, &off);
                int b = tok_cpt_to_byte(c);
                if (b >= 0) {
                    PUT(b);
                } else { // as llama_decode_text
                    char tmp[64];
                    char u[4];
                    size_t ul = tok_cpt_to_utf8(c, u);
                    (void)start;
                    int k = snprintf(tmp, sizeof tmp, "[UNK_BYTE_0x");
                    for (size_t j = 0; j < ul && k < 50; j++) k += snprintf(tmp + k, sizeof tmp - (size_t)k, "%02x", (uint8_t)u[j]);
                    for (int j = 0; j < k; j++) PUT(tmp[j]);
                    for (size_t j = 0; j < n; j++) PUT(s[j]);
                    PUT(']');
                }
            }
        } else { // U+2581 -> ' '
            for (size_t i = 0; i < n; i++) {
                if (i + 2 < n && (uint8_t)s[i] == 0xe2 && (uint8_t)s[i + 1] == 0x96 && (uint8_t)s[i + 2] == 0x81) {
                    PUT(' ');
                    i += 2;
                } else {
                    PUT(s[i]);
                }
            }
        }
    } else if ((attr & TOK_ATTR_BYTE) && t->kind != TOK_WPM) {
        PUT(tok_byte_value(t, id));
    }
#undef PUT
    return (int)o;
}

int el_token_to_piece(const el_tokenizer *t, int32_t id, bool render_special, char *buf, size_t cap)
{
    if (!t || id < 0 || id >= t->n_vocab) return 0;
    if (!render_special && (t->attr[id] & (TOK_ATTR_UNKNOWN | TOK_ATTR_CONTROL))) return 0;
    uint32_t n = t->piece_len[id];
    if (n <= cap && buf) memcpy(buf, t->piece[id], n);
    return (int)n;
}

/* llama_detokenize's clean-up of spaces before punctuation and contractions */
static size_t tok_clean_spaces(char *text, size_t total)
{
    size_t t1 = total, n = total ? 1 : 0;
    for (size_t i = 1; i < t1; i++) {
        char x = text[i];
        if (text[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) n--;
        text[n++] = x;
    }
    size_t t2 = n;
    n = t2 ? 1 : 0;
    for (size_t i = 1; i < t2; i++) {
        char x = text[i];
        if (x == '\'' && i + 1 < t2 && text[i - 1] == ' ' && text[i + 1] == ' ') {
            n--;
            text[++i] = '\0';
        }
        text[n++] = x;
    }
    size_t t3 = n;
    n = t3 ? 1 : 0;
    for (size_t i = 1; i < t3; i++) {
        char x = text[i];
        if (text[i - 1] == ' ' && x == '\'' && i + 1 < t3) {
            char x1 = text[i + 1];
            if (x1 == 's' || x1 == 'm') n--;
            else if (i + 2 < t3 && ((x1 == 'r' && text[i + 2] == 'e') || (x1 == 'v' && text[i + 2] == 'e'))) n--;
        }
        text[n++] = x;
    }
    return n;
}

char *el_detokenize(const el_tokenizer *t, const int32_t *ids, size_t n, bool render_special, el_err *err)
{
    if (!t) {
        el_errf(err, "detokenize: no tokenizer");
        return NULL;
    }
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= t->n_vocab) continue;
        total += t->piece_len[ids[i]];
    }
    char *out = el_malloc(total + 1, err);
    if (!out) return NULL;
    size_t o = 0;
    bool remove_space = t->add_space_prefix;
    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        bool strip = remove_space;
        remove_space = false;
        if (id < 0 || id >= t->n_vocab) continue;
        if (!render_special && (t->attr[id] & (TOK_ATTR_UNKNOWN | TOK_ATTR_CONTROL))) continue;
        const char *p = t->piece[id];
        size_t len = t->piece_len[id];
        if (strip && len && p[0] == ' ') p++, len--;
        memcpy(out + o, p, len);
        o += len;
    }
    if (t->clean_spaces) o = tok_clean_spaces(out, o);
    out[o] = 0;
    return out;
}

/* ------------------------------------------------------------------------ */
/* accessors                                                                 */

int32_t el_tokenizer_n_vocab(const el_tokenizer *t) { return t ? t->n_vocab : 0; }
int32_t el_tokenizer_bos(const el_tokenizer *t) { return t ? t->bos : -1; }
int32_t el_tokenizer_eos(const el_tokenizer *t) { return t ? t->eos : -1; }
bool el_tokenizer_adds_bos(const el_tokenizer *t) { return t && (t->kind == TOK_WPM || t->add_bos) && t->bos >= 0; }

bool el_tokenizer_is_eog(const el_tokenizer *t, int32_t id)
{
    return t && id >= 0 && id < t->n_vocab && t->eog[id];
}

const char *el_tokenizer_kind(const el_tokenizer *t)
{
    if (!t) return "";
    return t->kind == TOK_SPM ? "llama" : t->kind == TOK_BPE ? "gpt2" : "bert";
}

const char *el_tokenizer_token_text(const el_tokenizer *t, int32_t id)
{
    if (!t || id < 0 || id >= t->n_vocab) return NULL;
    return t->text[id];
}
