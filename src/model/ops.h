/* ops.h -- matrix products of the forward pass: weights in any stored type
 * times F32 activations, output rows split over the thread pool. Integer
 * kernels (qdot.h) for q8_0 q4_0 q5_0 q4_K q5_K q6_K, float kernels (fdot.h)
 * for F32 F16 BF16, and a dequantise-then-dot fallback for the rest. */
#ifndef EL_MODEL_OPS_H
#define EL_MODEL_OPS_H

#include "edgelm/gguf.h"
#include "edgelm/threads.h"

typedef struct el_ops {
    el_threads *tp;
    int nth;
    int64_t max_row;
    float **rowbuf;   /* one dequantised weight row per thread */
    void *act;        /* activations quantised for the integer kernels */
    size_t act_cap;
    int isa;          /* el_qdot_isa of the integer kernels */
    int fisa;         /* el_fdot_isa of the F32 / F16 / BF16 kernels */
} el_ops;

int el_ops_init(el_ops *o, el_threads *tp, int64_t max_row, el_err *err);
void el_ops_free(el_ops *o);

/* Y (n, W.ne1) = X (n, W.ne0) @ W^T */
void el_matmul_tensor(el_ops *o, const el_gguf_tensor *W, const float *X, int n, float *Y);

/* The same product with W packed at load (repack.h). */
struct el_packed;
void el_matmul_packed(el_ops *o, const struct el_packed *P, const float *X, int n, float *Y);
/* count (<= 3) packed products of the same X in one pass: Y[m] = X @ P[m]^T. */
void el_matmul_packed_n(el_ops *o, const struct el_packed *const *P, float *const *Y, int count, const float *X, int n);

/* sum_i a[i] * b[i] in float, 8 partial sums */
float ops_dot_f32(const float *a, const float *b, int n);

#endif
