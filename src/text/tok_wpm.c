/* tok_wpm.c -- WordPiece (tokenizer.ggml.model = "bert"), as llama.cpp's
 * llm_tokenizer_wpm_session:
 *
 *   normalise (NFD first code point when stripping accents, drop control
 *   characters and accent marks, lowercase), split at whitespace, and make
 *   every punctuation character, ASCII symbol and CJK ideograph a word of
 *   its own; then each word, prefixed with U+2581 (the GGUF stores BERT's
 *   word-initial pieces as "\u2581word" and its "##piece" continuations as
 *   "piece"), is covered greedily by the longest vocabulary matches; a word
 *   that cannot be covered becomes [UNK].
 *
 * Unicode properties (categories, lowercase, canonical decomposition) come
 * from utf8proc. */
#include "tok_internal.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

static bool wpm_is_whitespace(uint32_t c)
{
    if ((c >= 9 && c <= 13) || c == 0x85) return true;
    if (c >= 0x110000) return false;
    utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)c);
    return k == UTF8PROC_CATEGORY_ZS || k == UTF8PROC_CATEGORY_ZL || k == UTF8PROC_CATEGORY_ZP;
}

static utf8proc_category_t wpm_category(uint32_t c)
{
    return c >= 0x110000 ? UTF8PROC_CATEGORY_CN : utf8proc_category((utf8proc_int32_t)c);
}

/* BERT's definition of a "Chinese character" (CJK ideograph blocks) */
static bool wpm_is_chinese(uint32_t c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
           (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/* first code point of the canonical decomposition */
static uint32_t wpm_nfd_first(uint32_t c)
{
    if (c >= 0x110000 || (c >= 0xD800 && c <= 0xDFFF)) return c;
    utf8proc_int32_t buf[8];
    int last = 0;
    utf8proc_ssize_t n = utf8proc_decompose_char((utf8proc_int32_t)c, buf, 8, UTF8PROC_DECOMPOSE, &last);
    return n >= 1 ? (uint32_t)buf[0] : c;
}

static void wpm_word(const el_tokenizer *t, const char *w, size_t n, tok_ids *out)
{
    size_t start = out->n;
    size_t maxl = (size_t)t->max_token_len;
    for (size_t i = 0; i < n; i++) {
        bool match = false;
        size_t jmax = i + maxl + 1 < n ? i + maxl + 1 : n;
        for (size_t j = jmax; j > i; j--) {
            int32_t id = tok_map_get(&t->tok2id, w + i, j - i);
            if (id >= 0) {
                tok_ids_push(out, id);
                match = true;
                i = j - 1;
                break;
            }
        }
        if (!match) {
            out->n = start; // discard the whole word
            break;
        }
    }
    if (out->n == start && t->unk >= 0) tok_ids_push(out, t->unk);
}

int tok_wpm_tokenize(const el_tokenizer *t, const char *text, size_t len, tok_ids *out)
{
    // word buffer: "\u2581" + up to 4 bytes per input byte
    if (len > (SIZE_MAX - 8) / 4) return -1;
    char *w = malloc(len * 4 + 8);
    if (!w) return -1;
    memcpy(w, "\xe2\x96\x81", 3);
    size_t wn = 3; // bytes used, including the U+2581 prefix
#define FLUSH() do { if (wn > 3) wpm_word(t, w, wn, out); wn = 3; } while (0)
    for (size_t off = 0; off < len;) {
        uint32_t c = tok_cpt_from_utf8(text, len, &off);
        if (t->strip_accents) c = wpm_nfd_first(c);
        if (wpm_is_whitespace(c)) {
            FLUSH();
            continue;
        }
        utf8proc_category_t k = wpm_category(c);
        bool is_control = k == UTF8PROC_CATEGORY_CC || k == UTF8PROC_CATEGORY_CF || k == UTF8PROC_CATEGORY_CO ||
                          k == UTF8PROC_CATEGORY_CS;
        if (c == 0 || c == 0xFFFD || is_control) continue;
        bool is_mark = k == UTF8PROC_CATEGORY_MN || k == UTF8PROC_CATEGORY_MC || k == UTF8PROC_CATEGORY_ME;
        if (t->strip_accents && is_mark) continue;
        uint32_t lc = c;
        if (t->lowercase && c < 0x110000) lc = (uint32_t)utf8proc_tolower((utf8proc_int32_t)c);
        bool is_punct = k >= UTF8PROC_CATEGORY_PC && k <= UTF8PROC_CATEGORY_PO;
        bool is_symbol = k >= UTF8PROC_CATEGORY_SM && k <= UTF8PROC_CATEGORY_SO;
        if (is_punct || (c < 0x7F && is_symbol) || wpm_is_chinese(c)) {
            FLUSH();
            wn += tok_cpt_to_utf8(lc, w + wn);
            FLUSH();
        } else {
            wn += tok_cpt_to_utf8(lc, w + wn);
        }
    }
    FLUSH();
#undef FLUSH
    free(w);
    return out->oom ? -1 : 0;
}
