/* tools.h -- whole-file model transformations: synthetic models with real
 * shapes (for loading and speed work) and quantisation to llama.cpp's mixes. */
#ifndef EDGELM_TOOLS_H
#define EDGELM_TOOLS_H

#include "common.h"
#include "gguf.h"
#include "threads.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* llama.cpp's file types (general.file_type), the ones edgelm writes. */
typedef enum el_ftype {
    EL_FTYPE_ALL_F32 = 0,
    EL_FTYPE_F16 = 1,
    EL_FTYPE_Q4_0 = 2,
    EL_FTYPE_Q4_1 = 3,
    EL_FTYPE_Q8_0 = 7,
    EL_FTYPE_Q5_0 = 8,
    EL_FTYPE_Q5_1 = 9,
    EL_FTYPE_Q6_K = 18,
    EL_FTYPE_Q4_K_M = 15,
    EL_FTYPE_Q5_K_M = 17,
    EL_FTYPE_BF16 = 32,
} el_ftype;

/* "f16", "q8_0", "q4_k_m", ... (case-insensitive); -1 if unknown. */
int el_ftype_from_name(const char *name);
const char *el_ftype_name(el_ftype ft);

/* What llama.cpp's quantiser stores a tensor as for file type `ft`:
 * 1-D tensors and norms stay F32; output.weight (or token_embd.weight when
 * the output is tied) gets Q6_K in the k-quant and legacy mixes; attn_v and
 * ffn_down get Q6_K in the "more bits" layers of Q4_K_M/Q5_K_M; tensors whose
 * rows do not divide into blocks fall back (Q4_K->Q5_0, Q5_K->Q5_1,
 * Q6_K->Q8_0, then F16).
 *   layer / n_layer: the tensor's block index and the block count;
 *   has_output:      the file has its own output.weight. */
el_type el_ftype_tensor_type(el_ftype ft, const char *name, uint32_t n_dims, const int64_t *ne,
                             int layer, int n_layer, bool has_output);

/* ---- synthetic models ---- */

typedef struct el_synth_opts {
    const char *like;        /* "smollm2-135m", "llama-3.2-1b", "llama-3.1-8b", "qwen2.5-0.5b", ... */
    el_ftype ftype;          /* F16, Q8_0, Q4_0, Q4_K_M, ... */
    int layers;              /* 0 = the real count */
    uint64_t seed;
    const char *vocab_path;  /* optional vocabulary GGUF whose tokenizer.* keys are copied */
    bool quiet;              /* no progress on stderr */
} el_synth_opts;

/* Names accepted by --like, NULL-terminated. */
const char *const *el_synth_models(void);

/* Write a GGUF with exactly the tensor names, shapes, types and metadata keys
 * llama.cpp's converter produces for the named model, filled with seeded
 * random weights, and edgelm.synthetic = true. */
int el_synth_write(const el_synth_opts *o, const char *out_path, el_threads *tp, el_err *err);

/* ---- quantisation ---- */

/* Re-encode every tensor of `in_path` into the mix of `ft` (dequantise each
 * row, quantise with the reference quantiser) and write `out_path` through a
 * temporary file. Progress on stderr unless quiet. */
int el_quantize_file(const char *in_path, const char *out_path, el_ftype ft, el_threads *tp, bool quiet,
                     el_err *err);

#ifdef __cplusplus
}
#endif
#endif
