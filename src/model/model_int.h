/* model_int.h -- the model's insides, shared by model.c and forward.c. */
#ifndef EL_MODEL_INT_H
#define EL_MODEL_INT_H

#include "edgelm/model.h"
#include "edgelm/types.h"

typedef struct el_layer {
    const el_gguf_tensor *attn_norm, *wq, *wk, *wv, *wo, *bq, *bk, *bv;
    const el_gguf_tensor *ffn_norm, *w_gate, *w_up, *w_down;
} el_layer;

struct el_model {
    el_gguf *gguf;
    el_hparams hp;
    el_tokenizer *tok;
    const el_gguf_tensor *tok_embd, *output_norm, *output, *rope_freqs;
    el_layer *layers;
    struct el_packed **packed;   /* by tensor index: weights packed at load (repack.h), or NULL */
    uint64_t packed_bytes;
    uint8_t *arena;              /* every packed matrix, in decode order (el_huge_alloc) */
    size_t arena_bytes;
    int n_packed, n_matrices;
    char kernels[128];
    bool synthetic;
    uint64_t n_params, n_bytes, bytes_per_token;
    char desc[96];
};

/* The packed copy of a weight tensor of m, or NULL. */
const struct el_packed *el_model_packed(const el_model *m, const el_gguf_tensor *t);
#endif
