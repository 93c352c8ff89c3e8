/* tok_spm.c -- SentencePiece-style BPE by scores (tokenizer.ggml.model =
 * "llama"), as llama.cpp's llm_tokenizer_spm_session:
 *
 *   spaces become U+2581, the text is split into UTF-8 characters, and the
 *   adjacent pair whose concatenation is the vocabulary token with the
 *   highest score is merged (ties: leftmost first) until no pair is a token.
 *   Symbols that are not tokens fall back to <0xNN> byte tokens. */
#include "tok_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct spm_sym {
    int32_t prev, next;
    const char *text;
    size_t n;
} spm_sym;

typedef struct spm_bigram {
    int32_t left, right;
    float score;
    size_t size;
} spm_bigram;

typedef struct spm_session {
    const el_tokenizer *t;
    spm_sym *sym;
    int32_t n_sym;
    spm_bigram *heap;
    size_t n_heap, cap_heap;
    bool oom;
} spm_session;

/* max-heap: higher score first, then smaller left index */
static bool spm_before(const spm_bigram *a, const spm_bigram *b)
{
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static void spm_heap_push(spm_session *s, spm_bigram b)
{
    if (s->n_heap == s->cap_heap) {
        size_t cap = s->cap_heap ? s->cap_heap * 2 : 64;
        spm_bigram *h = realloc(s->heap, cap * sizeof *h);
        if (!h) {
            s->oom = true;
            return;
        }
        s->heap = h;
        s->cap_heap = cap;
    }
    size_t i = s->n_heap++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!spm_before(&b, &s->heap[p])) break;
        s->heap[i] = s->heap[p];
        i = p;
    }
    s->heap[i] = b;
}

static spm_bigram spm_heap_pop(spm_session *s)
{
    spm_bigram top = s->heap[0], last = s->heap[--s->n_heap];
    size_t i = 0, n = s->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && spm_before(&s->heap[c + 1], &s->heap[c])) c++;
        if (!spm_before(&s->heap[c], &last)) break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (n) s->heap[i] = last;
    return top;
}

static void spm_try_add_bigram(spm_session *s, int32_t left, int32_t right)
{
    if (left < 0 || right < 0) return;
    const char *text = s->sym[left].text;
    size_t n = s->sym[left].n + s->sym[right].n;
    int32_t id = tok_map_get(&s->t->tok2id, text, n);
    if (id < 0) return;
    spm_heap_push(s, (spm_bigram){left, right, s->t->score[id], n});
}

/* A final symbol is a token, or its bytes become byte tokens. (llama.cpp
 * also keeps a map from merged texts back to their two halves, but every
 * merged text is a vocabulary token, so that map is never consulted.) */
static void spm_emit(const el_tokenizer *t, const spm_sym *sym, tok_ids *out)
{
    int32_t id = tok_map_get(&t->tok2id, sym->text, sym->n);
    if (id >= 0) {
        tok_ids_push(out, id);
        return;
    }
    for (size_t j = 0; j < sym->n; j++) {
        int32_t b = t->byte_tok[(uint8_t)sym->text[j]];
        if (b < 0) b = t->unk;
        if (b >= 0) tok_ids_push(out, b);
    }
}

bool tok_utf8_char_ok(const char *s, size_t n)
{
    if (n == 0 || n != tok_utf8_len((uint8_t)s[0])) return false;
    if (n > 1 && ((uint8_t)s[0] & 0xc0) != 0xc0) return false;
    for (size_t i = 1; i < n; i++)
        if (((uint8_t)s[i] & 0xc0) != 0x80) return false;
    return true;
}

int tok_spm_init(el_tokenizer *t)
{
    t->spm_chunked = true;
    if (tok_map_init(&t->spm_pairs, 1024) != 0) return -1;
    for (int32_t id = 0; id < t->n_vocab; id++) {
        const char *s = t->text[id];
        size_t n = t->len[id], prev = 0, prev_len = 0;
        for (size_t off = 0; off < n;) {
            size_t k = tok_utf8_len((uint8_t)s[off]);
            if (off + k > n || !tok_utf8_char_ok(s + off, k)) {
                // a token that is not clean UTF-8: chunk boundaries would not be exact
                t->spm_chunked = false;
                tok_map_free(&t->spm_pairs);
                return 0;
            }
            if (prev_len && tok_map_put(&t->spm_pairs, s + prev, prev_len + k, 0) < 0) return -1;
            prev = off;
            prev_len = k;
            off += k;
        }
    }
    return 0;
}

void tok_spm_free(el_tokenizer *t)
{
    tok_map_free(&t->spm_pairs);
}

/* merge the symbols [a, b) */
static void spm_merge_chunk(spm_session *s, int32_t a, int32_t b, tok_ids *out)
{
    s->sym[a].prev = -1;
    s->sym[b - 1].next = -1;
    s->n_heap = 0;
    for (int32_t i = a + 1; i < b; i++) spm_try_add_bigram(s, i - 1, i);
    while (s->n_heap > 0 && !s->oom) {
        spm_bigram g = spm_heap_pop(s);
        spm_sym *l = &s->sym[g.left], *r = &s->sym[g.right];
        if (l->n == 0 || r->n == 0 || l->n + r->n != g.size) continue;
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) s->sym[r->next].prev = g.left;
        spm_try_add_bigram(s, l->prev, g.left);
        spm_try_add_bigram(s, g.left, l->next);
    }
    for (int32_t i = a; i != -1; i = s->sym[i].next) spm_emit(s->t, &s->sym[i], out);
}

int tok_spm_tokenize(const el_tokenizer *t, const char *raw, size_t raw_len, tok_ids *out)
{
    // escape spaces: ' ' -> U+2581
    size_t n_sp = 0;
    for (size_t i = 0; i < raw_len; i++) n_sp += raw[i] == ' ';
    size_t len = raw_len + 2 * n_sp;
    char *text = malloc(len ? len : 1);
    spm_session s = {.t = t};
    int rc = -1;
    if (!text) return -1;
    for (size_t i = 0, o = 0; i < raw_len; i++) {
        if (raw[i] == ' ') {
            memcpy(text + o, "\xe2\x96\x81", 3);
            o += 3;
        } else {
            text[o++] = raw[i];
        }
    }
    if (len == 0) {
        free(text);
        return 0;
    }
    s.sym = malloc(len * sizeof *s.sym);
    if (!s.sym) goto done;

    // split into UTF-8 characters
    bool clean = t->spm_chunked;
    for (size_t off = 0; off < len;) {
        size_t n = tok_utf8_len((uint8_t)text[off]);
        if (n > len - off) n = len - off;
        if (clean && !tok_utf8_char_ok(text + off, n)) clean = false;
        spm_sym *y = &s.sym[s.n_sym];
        y->text = text + off;
        y->n = n;
        off += n;
        y->prev = s.n_sym - 1;
        y->next = off == len ? -1 : s.n_sym + 1;
        s.n_sym++;
    }
    // independent chunks: cut where no token contains the two adjacent characters
    int32_t a = 0;
    for (int32_t i = 1; i <= s.n_sym && !s.oom; i++) {
        if (i < s.n_sym) {
            if (!clean) continue;
            const spm_sym *l = &s.sym[i - 1];
            if (tok_map_get(&t->spm_pairs, l->text, l->n + s.sym[i].n) >= 0) continue;
        }
        spm_merge_chunk(&s, a, i, out);
        a = i;
    }
    rc = (s.oom || out->oom) ? -1 : 0;
done:
    free(s.sym);
    free(s.heap);
    free(text);
    return rc;
}
