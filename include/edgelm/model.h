/* model.h -- llama-family models (general.architecture = llama, qwen2):
 * loading and checking a GGUF, and the forward pass.
 *
 *   el_model   the weights (memory-mapped, in their stored types), the
 *              hyperparameters and the tokenizer; read-only, shareable
 *   el_context a KV cache (F32) of n_ctx positions, scratch buffers and a
 *              thread pool; one sequence at a time
 *
 * el_decode evaluates a batch of tokens at consecutive positions (the whole
 * prompt at once, or one token per step when generating), appending their
 * keys and values to the cache. */
#ifndef EDGELM_MODEL_H
#define EDGELM_MODEL_H

#include "common.h"
#include "gguf.h"
#include "threads.h"
#include "tokenizer.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum el_rope_type { EL_ROPE_NORM = 0, EL_ROPE_NEOX = 2 } el_rope_type;

typedef struct el_hparams {
    char arch[32];
    int32_t n_vocab, n_embd, n_layer, n_head, n_head_kv, n_ff;
    int32_t head_dim;      /* attention.key_length, else n_embd / n_head */
    int32_t n_rot;         /* rope.dimension_count, else head_dim */
    int32_t n_ctx_train;   /* context_length */
    float rms_eps;
    float rope_base;       /* rope.freq_base (default 10000) */
    float rope_freq_scale; /* 1 / rope.scaling.factor for linear scaling, else 1 */
    el_rope_type rope_type;/* llama: NORM (interleaved pairs), qwen2: NEOX (halves) */
    bool has_rope_freqs;   /* Llama 3 scaling: the rope_freqs tensor divides each frequency */
    bool tied_output;      /* no output.weight: token_embd.weight is the output matrix */
    bool qkv_bias;         /* qwen2 */
} el_hparams;

typedef struct el_model el_model;
typedef struct el_context el_context;

/* Open, validate (every required key and tensor, with shapes checked against
 * the hyperparameters) and build the tokenizer. Errors name the file and the
 * key or tensor. */
el_model *el_model_load(const char *path, el_err *err);
void el_model_free(el_model *m);

const el_hparams *el_model_hparams(const el_model *m);
const el_tokenizer *el_model_tokenizer(const el_model *m);
const el_gguf *el_model_gguf(const el_model *m);
const char *el_model_path(const el_model *m);
bool el_model_is_synthetic(const el_model *m);   /* edgelm.synthetic = true */
uint64_t el_model_n_params(const el_model *m);
uint64_t el_model_n_bytes(const el_model *m);     /* bytes of all tensors */
/* "llama 135M Q8_0"-style description for tables */
const char *el_model_desc(const el_model *m);
/* Bytes of weights read to produce one token (every matrix once, plus one
 * embedding row), for the bandwidth roofline. */
uint64_t el_model_bytes_per_token(const el_model *m);
/* How the weight matrices are multiplied here, e.g. "packed avx512: 211 of 211
 * matrices (139.8 MiB)" or "row kernels" (EL_REPACK=0, or no packed kernels). */
const char *el_model_kernels(const el_model *m);

typedef struct el_context_params {
    int n_ctx;          /* <= 0: the training context */
    int n_threads;      /* >= 1 */
    el_type kv_type;    /* EL_TYPE_F16 (llama.cpp's default) or EL_TYPE_F32 */
    bool flash_attn;    /* with an F16 cache: llama.cpp's CPU flash-attention numerics (online
                           softmax, query rounded to F16, V accumulated in F16), which is what
                           llama.cpp does by default; false: plain softmax, weights rounded to
                           F16 before the sum over V (llama.cpp with -fa off) */
} el_context_params;

/* llama.cpp's defaults: training context, physical cores, F16 cache, flash attention. */
el_context_params el_context_default_params(void);
el_context *el_context_new_ex(el_model *m, const el_context_params *p, el_err *err);
/* Shorthand: the defaults with this context and thread count. */
el_context *el_context_new(el_model *m, int n_ctx, int n_threads, el_err *err);
void el_context_free(el_context *c);
int el_context_n_ctx(const el_context *c);
/* True when single tokens are decoded in one pass of the thread pool (2+
 * threads, every matrix packed; EL_DECODE_REGION=0 turns it off), false when
 * each matrix product is its own job for the pool. */
bool el_context_one_pass_decode(const el_context *c);
const el_model *el_context_model(const el_context *c);
el_threads *el_context_threads(el_context *c);

/* Evaluate tokens[0..n) at positions pos..pos+n-1 (pos <= the number of
 * positions already in the cache; the cache is truncated to pos first).
 * all_logits: keep the logits of every position (else only the last). */
int el_decode(el_context *c, const int32_t *tokens, int n, int pos, bool all_logits, el_err *err);
/* Logits (n_vocab floats) of batch row i of the last el_decode; i = -1 means
 * the last row. NULL if that row was not kept. */
const float *el_get_logits(const el_context *c, int i);
/* Forget the cache (next decode starts at position 0). */
void el_context_reset(el_context *c);

/* ---- perplexity, llama-perplexity's definition ----
 * The text's tokens (with BOS if the vocabulary adds one) are cut into chunks
 * of n_ctx; each chunk's first token becomes BOS; the logits at positions
 * n_ctx/2 .. n_ctx-2 are scored against the next token. PPL = exp(mean NLL);
 * its error is PPL * sqrt(var(NLL) / (count - 1)), as llama.cpp prints it. */
typedef struct el_ppl_result {
    double ppl, ppl_err, mean_nll;
    int64_t count;     /* scored predictions */
    int chunks;
} el_ppl_result;
/* called after each chunk with the running estimate */
typedef void (*el_ppl_progress)(void *ud, int chunk, int n_chunks, double ppl_so_far);

int el_perplexity(el_context *c, const int32_t *tokens, int64_t n_tokens, int n_ctx, int max_chunks,
                  el_ppl_progress cb, void *ud, el_ppl_result *out, el_err *err);

#ifdef __cplusplus
}
#endif
#endif
