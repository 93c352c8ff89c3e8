/* tokenizer.h -- tokenizers built from GGUF metadata (tokenizer.ggml.*).
 *
 *   tokenizer.ggml.model = "llama"  SentencePiece-style: scores, byte fallback
 *                                   (<0xNN> tokens), space prefix (U+2581)
 *                        = "gpt2"   byte-level BPE: merges, pre-tokenizer splits
 *                                   chosen by tokenizer.ggml.pre
 *                        = "bert"   WordPiece (lowercase, strip accents, ## pieces)
 *
 * Special and control tokens (token_type CONTROL / USER_DEFINED) are matched
 * in the text when parse_special is set. BOS/EOS are added according to
 * tokenizer.ggml.add_bos_token / add_eos_token (or the model's defaults).
 */
#ifndef EDGELM_TOKENIZER_H
#define EDGELM_TOKENIZER_H

#include "common.h"
#include "gguf.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct el_tokenizer el_tokenizer;

/* Token types as stored in tokenizer.ggml.token_type. */
enum {
    EL_TOKEN_UNDEFINED = 0,
    EL_TOKEN_NORMAL = 1,
    EL_TOKEN_UNKNOWN = 2,
    EL_TOKEN_CONTROL = 3,
    EL_TOKEN_USER_DEFINED = 4,
    EL_TOKEN_UNUSED = 5,
    EL_TOKEN_BYTE = 6
};

/* Build a tokenizer from an open GGUF (model or vocabulary-only file). The
 * tokenizer copies what it needs; the GGUF may be closed afterwards. */
el_tokenizer *el_tokenizer_load(const el_gguf *g, el_err *err);
void el_tokenizer_free(el_tokenizer *t);

/* Tokenize `len` bytes of UTF-8 text.
 *   add_special:   add BOS (and EOS) as the vocabulary's rules say
 *   parse_special: text like "<|im_start|>" becomes its control token
 * Writes at most `cap` ids to `out` and returns the total number of tokens
 * (which may exceed cap: call again with a larger buffer), or -1 with err set. */
int64_t el_tokenize(const el_tokenizer *t, const char *text, size_t len, bool add_special,
                    bool parse_special, int32_t *out, int64_t cap, el_err *err);

/* The bytes a token stands for (byte-fallback tokens give their raw byte;
 * SentencePiece's U+2581 becomes a space; byte-level BPE symbols are mapped
 * back to bytes). Control tokens give their text only when render_special.
 * Returns the piece length; if it exceeds cap, nothing useful is written and
 * the needed length is returned. Invalid ids give 0. */
int el_token_to_piece(const el_tokenizer *t, int32_t id, bool render_special, char *buf,
                      size_t cap);

/* Detokenize a sequence (handles the leading-space rule of SentencePiece
 * when remove_leading_space). Returns malloc'd NUL-terminated text. */
char *el_detokenize(const el_tokenizer *t, const int32_t *ids, size_t n, bool render_special,
                    el_err *err);

int32_t el_tokenizer_n_vocab(const el_tokenizer *t);
int32_t el_tokenizer_bos(const el_tokenizer *t);   /* -1 if none */
int32_t el_tokenizer_eos(const el_tokenizer *t);   /* -1 if none */
bool el_tokenizer_adds_bos(const el_tokenizer *t);
/* End of generation: EOS, EOT (<|eot_id|>, <|im_end|>, <|endoftext|>...) */
bool el_tokenizer_is_eog(const el_tokenizer *t, int32_t id);
/* "llama" | "gpt2" | "bert" */
const char *el_tokenizer_kind(const el_tokenizer *t);
/* The raw vocabulary string of a token (as stored in the GGUF) or NULL. */
const char *el_tokenizer_token_text(const el_tokenizer *t, int32_t id);

/* Convert a Hugging Face tokenizer.json (and optional tokenizer_config.json,
 * may be NULL) into a vocabulary-only GGUF at out_path. */
int el_tokenizer_convert_hf(const char *tokenizer_json, const char *tokenizer_config_json,
                            const char *out_path, el_err *err);

/* The same with the pre-tokenizer name given (NULL: detect it from the
 * tokenizer.json pre_tokenizer regex: llama-bpe, qwen2, qwen35, gpt-2, else
 * "default"). */
int el_tokenizer_convert_hf_pre(const char *tokenizer_json, const char *tokenizer_config_json,
                                const char *pre, const char *out_path, el_err *err);

/* From memory (config may be NULL): a new writer holding the vocabulary keys,
 * to be written with el_gguf_writer_write and freed by the caller; NULL with
 * err set on bad input. */
el_gguf_writer *el_tokenizer_hf_to_gguf(const char *json, size_t json_len, const char *config,
                                        size_t config_len, const char *pre, el_err *err);

#ifdef __cplusplus
}
#endif
#endif
