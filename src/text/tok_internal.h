/* tok_internal.h -- the shared insides of the tokenizers (tokenizer.c,
 * tok_spm.c, tok_bpe.c, tok_wpm.c, tok_convert.c). Not a public header.
 *
 * The behaviour follows llama.cpp's llama-vocab.cpp so that token ids match
 * its outputs exactly: token attributes are bit flags (llama_token_attr
 * values), special tokens are split out of the text before the model's own
 * algorithm runs, and each algorithm reproduces llama.cpp's tie-breaking. */
#ifndef EL_TOK_INTERNAL_H
#define EL_TOK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgelm/tokenizer.h"

/* token attributes (bit flags, as llama_token_attr) */
enum {
    TOK_ATTR_UNDEFINED = 0,
    TOK_ATTR_UNKNOWN = 1 << 0,
    TOK_ATTR_UNUSED = 1 << 1,
    TOK_ATTR_NORMAL = 1 << 2,
    TOK_ATTR_CONTROL = 1 << 3,
    TOK_ATTR_USER_DEFINED = 1 << 4,
    TOK_ATTR_BYTE = 1 << 5,
    TOK_ATTR_LSTRIP = 1 << 7,
    TOK_ATTR_RSTRIP = 1 << 8,
};

typedef enum tok_kind { TOK_SPM = 0, TOK_BPE = 1, TOK_WPM = 2 } tok_kind;

/* ---- string -> int32 hash map (open addressing, keys not owned) ---- */
typedef struct tok_slot {
    const char *key;
    uint32_t len;
    int32_t val;
} tok_slot;

typedef struct tok_map {
    tok_slot *slots;
    size_t cap; /* power of two */
    size_t n;
} tok_map;

uint64_t tok_hash(const char *s, size_t len);
int tok_map_init(tok_map *m, size_t expected);
void tok_map_free(tok_map *m);
/* insert; if present: keep the old value (returns 1), else 0; -1 on OOM */
int tok_map_put(tok_map *m, const char *key, size_t len, int32_t val);
/* insert or overwrite; -1 on OOM */
int tok_map_set(tok_map *m, const char *key, size_t len, int32_t val);
/* value or -1 */
int32_t tok_map_get(const tok_map *m, const char *key, size_t len);

/* ---- growable int32 vector ---- */
typedef struct tok_ids {
    int32_t *v;
    size_t n, cap;
    bool oom;
} tok_ids;
void tok_ids_push(tok_ids *o, int32_t id);

/* ---- the tokenizer ---- */
struct el_tokenizer {
    tok_kind kind;
    char *pre;              /* tokenizer.ggml.pre (or "default") */
    int32_t n_vocab;
    char *arena;            /* every token text, NUL-separated */
    const char **text;      /* [n_vocab] into arena */
    uint32_t *len;          /* [n_vocab] */
    float *score;           /* [n_vocab] */
    int32_t *attr;          /* [n_vocab] TOK_ATTR_* */
    tok_map tok2id;
    int max_token_len;

    /* BPE merges: key "left right" (strings in merge_arena) -> rank */
    tok_map merges;
    char *merge_arena;
    bool ignore_merges;
    void *pretok;           /* compiled pre-tokenizer regexes (tok_bpe.c) */

    int32_t bos, eos, unk, sep, pad, eot, eom;
    bool add_bos, add_eos, add_sep, add_space_prefix, clean_spaces;
    bool lowercase, strip_accents;

    int32_t *special;       /* control/user-defined/unknown ids, longest text first */
    int32_t n_special;
    uint8_t *eog;           /* [n_vocab] 1 = end of generation */

    /* SPM: every pair of adjacent characters inside some token; a text
     * boundary between two characters not in this set can never be merged
     * across, so the text is processed in independent chunks */
    tok_map spm_pairs;
    bool spm_chunked;

    int32_t byte_tok[256];  /* byte fallback / byte-level symbol ids (-1 if none) */
    char byte_enc[256][2];  /* GPT-2 byte -> unicode symbol, UTF-8 */
    uint8_t byte_enc_len[256];

    char **piece;           /* [n_vocab] token_to_piece(special=true) cache */
    uint32_t *piece_len;
};

/* UTF-8 helpers shared by the algorithms */
size_t tok_utf8_len(uint8_t lead);                       /* 1..4 from the high nibble */
/* decode like llama.cpp (invalid byte -> U+FFFD, advance 1) */
uint32_t tok_cpt_from_utf8(const char *s, size_t n, size_t *off);
size_t tok_cpt_to_utf8(uint32_t cpt, char *out);        /* out >= 4 bytes */
/* the GPT-2 byte <-> unicode mapping */
uint32_t tok_byte_to_cpt(uint8_t b);
int tok_cpt_to_byte(uint32_t cpt);                       /* -1 if none */

/* per-algorithm entry points: append the ids for one raw text fragment */
int tok_spm_tokenize(const el_tokenizer *t, const char *text, size_t len, tok_ids *out);
int tok_bpe_tokenize(const el_tokenizer *t, const char *text, size_t len, tok_ids *out);
int tok_wpm_tokenize(const el_tokenizer *t, const char *text, size_t len, tok_ids *out);

int tok_spm_init(el_tokenizer *t);
void tok_spm_free(el_tokenizer *t);
/* is [s, s+n) one well-formed UTF-8 character of length n? */
bool tok_utf8_char_ok(const char *s, size_t n);

/* BPE pre-tokenizer (PCRE2) */
int tok_bpe_init(el_tokenizer *t, el_err *err);
void tok_bpe_free(el_tokenizer *t);

#endif
