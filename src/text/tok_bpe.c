/* tok_bpe.c -- byte-level BPE (tokenizer.ggml.model = "gpt2"), as llama.cpp's
 * llm_tokenizer_bpe_session:
 *
 *   1. pre-tokenizer: the regexes chosen by tokenizer.ggml.pre are applied
 *      one after the other; each splits every piece left by the previous one
 *      into its matches and the gaps between them (PCRE2, UTF + UCP, so the
 *      Unicode classes \p{L}, \p{N}, \p{P}, \s come from PCRE2's tables);
 *   2. each piece's bytes are mapped to GPT-2's byte-to-unicode symbols;
 *   3. the adjacent pair with the lowest merge rank is merged (ties: leftmost
 *      first) until no pair is in tokenizer.ggml.merges;
 *   4. each resulting symbol is looked up in the vocabulary.
 *
 * The regexes are the ones llama.cpp uses (llama-vocab.cpp), whose own
 * hand-written splitters for the gpt2 and llama3 patterns behave like these
 * regexes. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "tok_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BPE_MAX_RE 6

typedef struct bpe_pretok {
    int n_re;
    pcre2_code *re[BPE_MAX_RE];
} bpe_pretok;

/* ---- the pre-tokenizer regexes, by llama.cpp's pre-type ---- */
#define RE_GPT2 "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"
#define RE_LLAMA3 "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RE_QWEN2 "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RE_QWEN35 "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RE_TEKKEN "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RE_GPT4O "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

/* deepseek-llm's letter class: the cased letters (Lu, Ll, Lt), which its
 * tokenizer.json spells out as code point ranges */
#define RE_DEEPSEEK_LETTERS "\\s?\\p{L&}+"
#define RE_DEEPSEEK_PUNCT "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+"
#define RE_CJK "[\\x{4E00}-\\x{9FA5}\\x{0800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+"
#define RE_PORO " ?[^(\\s|.,!?\\x{2026}\\x{3002}\\x{FF0C}\\x{3001}\\x{0964}\\x{06D4}\\x{060C})]+"

enum { F_IGNORE_MERGES = 1, F_ADD_BOS = 2, F_NO_CLEAN = 4, F_NO_BOS_ID = 8, F_ADD_SEP = 16 };

typedef struct bpe_pre_def {
    const char *names;      /* '|'-separated tokenizer.ggml.pre values */
    int flags;
    const char *re[BPE_MAX_RE];
} bpe_pre_def;

static const bpe_pre_def bpe_pre_defs[] = {
    {"default", 0, {"[\\p{P}\\$\\+<=>\\^~\\|]+", RE_GPT2, "\\p{N}+", "[0-9][0-9][0-9]"}},
    {"llama3|llama-v3|llama-bpe|falcon3|falcon-h1|pixtral|midm-2.0|lfm2|jina-v5-nano", F_IGNORE_MERGES | F_ADD_BOS, {RE_LLAMA3}},
    {"dbrx|smaug-bpe", 0, {RE_LLAMA3}},
    {"deepseek-llm", F_NO_CLEAN, {"[\r\n]", RE_DEEPSEEK_LETTERS, RE_DEEPSEEK_PUNCT, "\\s+$", RE_CJK, "\\p{N}+"}},
    {"deepseek-coder", F_NO_CLEAN, {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", RE_CJK, "\\p{N}"}},
    {"falcon", 0, {"[\\p{P}\\$\\+<=>\\^~\\|`]+", RE_GPT2, "[0-9][0-9][0-9]"}},
    {"starcoder|refact|codeshell|exaone|minerva-7b|mellum2", 0, {"\\p{N}", RE_GPT2}},
    {"command-r|smollm", F_NO_CLEAN, {"\\p{N}", RE_GPT2}},
    {"gpt-2|phi-2|jina-es|jina-de|gigachat|jina-v2-es|jina-v2-de|a.x-4.0|mellum|modern-bert|mpt|olmo|exaone4", 0, {RE_GPT2}},
    {"jina-v1-en|jina-v2-code|roberta-bpe", F_ADD_SEP, {RE_GPT2}},
    {"trillion|granite-docling", F_NO_CLEAN, {RE_GPT2}},
    {"qwen2|deepseek-r1-qwen|kormo|f2llmv2|hunyuan|solar-open", F_NO_CLEAN, {RE_QWEN2}},
    {"stablelm2|megrez", 0, {RE_QWEN2}},
    {"qwen35", F_NO_CLEAN, {RE_QWEN35}},
    {"glm4|chatglm-bpe", F_NO_BOS_ID, {RE_LLAMA3}},
    {"tekken", F_NO_CLEAN | F_IGNORE_MERGES | F_ADD_BOS, {RE_TEKKEN}},
    {"gpt-4o|llama4|kanana2|talkie|minimax-m2", F_NO_CLEAN, {RE_GPT4O}},
    {"poro-chat", F_NO_CLEAN, {RE_PORO}},
    {"bloom|gpt3-finnish", 0, {RE_PORO}},
};

static bool bpe_name_in(const char *names, const char *pre)
{
    size_t n = strlen(pre);
    for (const char *p = names; *p;) {
        const char *e = strchr(p, '|');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && memcmp(p, pre, n) == 0) return true;
        if (!e) break;
        p = e + 1;
    }
    return false;
}

/* llama.cpp's whitespace set is PCRE2's \s plus U+0085 (NEXT LINE): rewrite
 * \s as [\s\x{85}] (inside a class: \s\x{85}) and \S as [^\s\x{85}]. */
static char *bpe_rewrite_space(const char *re)
{
    size_t n = strlen(re);
    char *o = malloc(n * 10 + 1);
    if (!o) return NULL;
    size_t k = 0;
    bool in_class = false;
    for (size_t i = 0; i < n; i++) {
        char c = re[i];
        if (c == '\\' && i + 1 < n) {
            char d = re[i + 1];
            if (d == 's') {
                const char *r = in_class ? "\\s\\x{85}" : "[\\s\\x{85}]";
                memcpy(o + k, r, strlen(r));
                k += strlen(r);
            } else if (d == 'S' && !in_class) {
                memcpy(o + k, "[^\\s\\x{85}]", 11);
                k += 11;
            } else {
                o[k++] = c;
                o[k++] = d;
            }
            i++;
            continue;
        }
        if (c == '[' && !in_class) in_class = true;
        else if (c == ']' && in_class) in_class = false;
        o[k++] = c;
    }
    o[k] = 0;
    return o;
}

int tok_bpe_init(el_tokenizer *t, el_err *err)
{
    const bpe_pre_def *def = NULL;
    for (size_t i = 0; i < sizeof bpe_pre_defs / sizeof bpe_pre_defs[0]; i++)
        if (bpe_name_in(bpe_pre_defs[i].names, t->pre)) def = &bpe_pre_defs[i];
    if (!def) return el_errf(err, "key 'tokenizer.ggml.pre' is '%.64s': unknown pre-tokenizer type", t->pre);
    t->ignore_merges = def->flags & F_IGNORE_MERGES;
    if (def->flags & F_ADD_BOS) t->add_bos = true;
    if (def->flags & F_NO_CLEAN) t->clean_spaces = false;
    if (def->flags & F_ADD_SEP) t->add_sep = true;
    if (def->flags & F_NO_BOS_ID) t->bos = -1;
    bpe_pretok *p = el_calloc(1, sizeof *p, err);
    if (!p) return -1;
    t->pretok = p;
    for (int i = 0; i < BPE_MAX_RE && def->re[i]; i++) {
        char *pat = bpe_rewrite_space(def->re[i]);
        if (!pat) return el_errf(err, "out of memory compiling the pre-tokenizer");
        int ec;
        PCRE2_SIZE eo;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
                                       PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY | PCRE2_NO_AUTO_CAPTURE,
                                       &ec, &eo, NULL);
        free(pat);
        if (!re) {
            PCRE2_UCHAR msg[128];
            pcre2_get_error_message(ec, msg, sizeof msg);
            return el_errf(err, "pre-tokenizer '%s': regex %d does not compile at offset %zu: %s", t->pre, i,
                           (size_t)eo, (const char *)msg);
        }
        pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); // optional speed-up
        p->re[p->n_re++] = re;
    }
    return 0;
}

void tok_bpe_free(el_tokenizer *t)
{
    bpe_pretok *p = t->pretok;
    if (!p) return;
    for (int i = 0; i < p->n_re; i++) pcre2_code_free(p->re[i]);
    free(p);
    t->pretok = NULL;
}

/* ---- pre-tokenization ---- */

typedef struct bpe_span {
    size_t off, len;
} bpe_span;

typedef struct bpe_spans {
    bpe_span *v;
    size_t n, cap;
    bool oom;
} bpe_spans;

static void bpe_span_push(bpe_spans *s, size_t off, size_t len)
{
    if (len == 0 || s->oom) return;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        bpe_span *v = realloc(s->v, cap * sizeof *v);
        if (!v) {
            s->oom = true;
            return;
        }
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = (bpe_span){off, len};
}

/* Split one piece [off, off+len) of `text` by regex `re` into matches and gaps. */
static void bpe_split_piece(pcre2_code *re, pcre2_match_data *md, const char *text, size_t off, size_t len,
                            bpe_spans *out)
{
    const PCRE2_SPTR subj = (PCRE2_SPTR)(text + off);
    size_t pos = 0, start = 0;
    while (start < len) {
        int rc = pcre2_match(re, subj, len, start, PCRE2_NO_UTF_CHECK, md, NULL);
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
            rc = pcre2_match(re, subj, len, start, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md, NULL);
        if (rc < 0) break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t ms = ov[0], me = ov[1];
        if (me <= ms) { // empty match: step one character, emit nothing
            start = ms + 1;
            while (start < len && ((uint8_t)subj[start] & 0xc0) == 0x80) start++;
            continue;
        }
        if (ms > pos) bpe_span_push(out, off + pos, ms - pos);
        bpe_span_push(out, off + ms, me - ms);
        pos = start = me;
    }
    if (pos < len) bpe_span_push(out, off + pos, len - pos);
}

/* ---- the merge loop ---- */

typedef struct bpe_sym {
    int32_t prev, next;
    const char *text;
    uint32_t n;
} bpe_sym;

typedef struct bpe_bigram {
    int32_t left, right;
    int32_t rank;
    uint32_t nl, nr;
} bpe_bigram;

typedef struct bpe_work {
    bpe_sym *sym;
    size_t cap_sym;
    bpe_bigram *heap;
    size_t n_heap, cap_heap;
    char *key;
    size_t cap_key;
    bool oom;
} bpe_work;

/* min-heap: lower rank first, then smaller left index */
static bool bpe_before(const bpe_bigram *a, const bpe_bigram *b)
{
    return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

static void bpe_heap_push(bpe_work *w, bpe_bigram b)
{
    if (w->n_heap == w->cap_heap) {
        size_t cap = w->cap_heap ? w->cap_heap * 2 : 64;
        bpe_bigram *h = realloc(w->heap, cap * sizeof *h);
        if (!h) {
            w->oom = true;
            return;
        }
        w->heap = h;
        w->cap_heap = cap;
    }
    size_t i = w->n_heap++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!bpe_before(&b, &w->heap[p])) break;
        w->heap[i] = w->heap[p];
        i = p;
    }
    w->heap[i] = b;
}

static bpe_bigram bpe_heap_pop(bpe_work *w)
{
    bpe_bigram top = w->heap[0], last = w->heap[--w->n_heap];
    size_t i = 0, n = w->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && bpe_before(&w->heap[c + 1], &w->heap[c])) c++;
        if (!bpe_before(&w->heap[c], &last)) break;
        w->heap[i] = w->heap[c];
        i = c;
    }
    if (n) w->heap[i] = last;
    return top;
}

static void bpe_add_bigram(const el_tokenizer *t, bpe_work *w, int32_t left, int32_t right)
{
    if (left < 0 || right < 0) return;
    const bpe_sym *l = &w->sym[left], *r = &w->sym[right];
    size_t n = (size_t)l->n + 1 + r->n;
    if (n > w->cap_key) {
        char *k = realloc(w->key, n * 2);
        if (!k) {
            w->oom = true;
            return;
        }
        w->key = k;
        w->cap_key = n * 2;
    }
    memcpy(w->key, l->text, l->n);
    w->key[l->n] = ' ';
    memcpy(w->key + l->n + 1, r->text, r->n);
    int32_t rank = tok_map_get(&t->merges, w->key, n);
    if (rank < 0) return;
    bpe_heap_push(w, (bpe_bigram){left, right, rank, l->n, r->n});
}

/* BPE of one byte-encoded word */
static void bpe_word(const el_tokenizer *t, bpe_work *w, const char *enc, size_t len, tok_ids *out)
{
    if (t->ignore_merges) {
        int32_t id = tok_map_get(&t->tok2id, enc, len);
        if (id >= 0) {
            tok_ids_push(out, id);
            return;
        }
    }
    if (len > w->cap_sym) {
        bpe_sym *s = realloc(w->sym, len * sizeof *s);
        if (!s) {
            w->oom = true;
            return;
        }
        w->sym = s;
        w->cap_sym = len;
    }
    int32_t n_sym = 0;
    for (size_t off = 0; off < len;) {
        size_t n = tok_utf8_len((uint8_t)enc[off]);
        if (n > len - off) n = len - off;
        bpe_sym *y = &w->sym[n_sym];
        y->text = enc + off;
        y->n = (uint32_t)n;
        off += n;
        y->prev = n_sym - 1;
        y->next = off == len ? -1 : n_sym + 1;
        n_sym++;
    }
    w->n_heap = 0;
    for (int32_t i = 1; i < n_sym; i++) bpe_add_bigram(t, w, i - 1, i);
    while (w->n_heap > 0 && !w->oom) {
        bpe_bigram b = bpe_heap_pop(w);
        bpe_sym *l = &w->sym[b.left], *r = &w->sym[b.right];
        if (l->n == 0 || r->n == 0 || l->n != b.nl || r->n != b.nr) continue; // outdated
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) w->sym[r->next].prev = b.left;
        bpe_add_bigram(t, w, l->prev, b.left);
        bpe_add_bigram(t, w, b.left, l->next);
    }
    for (int32_t i = 0; i != -1 && n_sym > 0; i = w->sym[i].next) {
        const bpe_sym *y = &w->sym[i];
        if (y->n == 0) continue;
        int32_t id = tok_map_get(&t->tok2id, y->text, y->n);
        if (id >= 0) {
            tok_ids_push(out, id);
            continue;
        }
        // as llama.cpp: each byte of the symbol's text looked up as a 1-byte token
        for (uint32_t j = 0; j < y->n; j++) {
            int32_t b = tok_map_get(&t->tok2id, y->text + j, 1);
            if (b >= 0) tok_ids_push(out, b);
        }
    }
}

/* Re-encode the text as llama.cpp sees it: decoded code points (invalid
 * bytes -> U+FFFD) written back as valid UTF-8 (surrogates -> U+FFFD). */
static char *bpe_sanitize(const char *text, size_t len, size_t *out_len)
{
    if (len > (SIZE_MAX - 4) / 3) return NULL;
    char *o = malloc(len * 3 + 4);
    if (!o) return NULL;
    size_t k = 0;
    for (size_t off = 0; off < len;) {
        uint32_t c = tok_cpt_from_utf8(text, len, &off);
        if ((c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF) c = 0xFFFD;
        k += tok_cpt_to_utf8(c, o + k);
    }
    *out_len = k;
    return o;
}

int tok_bpe_tokenize(const el_tokenizer *t, const char *raw, size_t raw_len, tok_ids *out)
{
    const bpe_pretok *p = t->pretok;
    size_t len = 0;
    char *text = bpe_sanitize(raw, raw_len, &len);
    bpe_spans a = {0}, b = {0};
    bpe_work w = {0};
    char *enc = NULL;
    pcre2_match_data *md = NULL;
    int rc = -1;
    if (!text) return -1;
    bpe_span_push(&a, 0, len);
    for (int i = 0; i < p->n_re; i++) {
        pcre2_match_data_free(md);
        md = pcre2_match_data_create_from_pattern(p->re[i], NULL);
        if (!md) goto done;
        b.n = 0;
        for (size_t j = 0; j < a.n; j++) bpe_split_piece(p->re[i], md, text, a.v[j].off, a.v[j].len, &b);
        if (b.oom) goto done;
        bpe_spans tmp = a;
        a = b;
        b = tmp;
    }
    if (a.oom) goto done;
    size_t max_word = 0;
    for (size_t j = 0; j < a.n; j++)
        if (a.v[j].len > max_word) max_word = a.v[j].len;
    enc = malloc(max_word * 2 + 1);
    if (!enc) goto done;
    for (size_t j = 0; j < a.n && !w.oom; j++) {
        size_t k = 0;
        for (size_t i = 0; i < a.v[j].len; i++) { // bytes -> GPT-2 unicode symbols
            uint8_t c = (uint8_t)text[a.v[j].off + i];
            memcpy(enc + k, t->byte_enc[c], t->byte_enc_len[c]);
            k += t->byte_enc_len[c];
        }
        bpe_word(t, &w, enc, k, out);
    }
    rc = (w.oom || out->oom) ? -1 : 0;
done:
    pcre2_match_data_free(md);
    free(enc);
    free(a.v);
    free(b.v);
    free(w.sym);
    free(w.heap);
    free(w.key);
    free(text);
    return rc;
}
