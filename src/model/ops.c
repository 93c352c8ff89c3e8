/* ops.c -- matrix products: each thread takes a range of output rows. The
 * integer kernels (quantised weights) and the float kernels (F32 / F16 / BF16
 * weights) read each weight row once per 4 rows of the batch; other types
 * decode one weight row at a time into the thread's buffer and reuse it for
 * every row of the batch. */
#include "ops.h"

#include <stdlib.h>

#include "edgelm/types.h"
#include "fdot.h"
#include "qdot.h"
#include "repack.h"

int el_ops_init(el_ops *o, el_threads *tp, int64_t max_row, el_err *err)
{
    o->tp = tp;
    o->nth = el_threads_count(tp);
    o->max_row = max_row;
    o->isa = (int)el_qdot_best_isa();
    o->fisa = (int)el_fdot_best_isa();
    o->act = NULL;
    o->act_cap = 0;
    o->rowbuf = el_calloc((size_t)o->nth, sizeof *o->rowbuf, err);
    if (!o->rowbuf) return -1;
    for (int t = 0; t < o->nth; t++)
        if (!(o->rowbuf[t] = el_malloc((size_t)max_row * sizeof(float), err))) return -1;
    return 0;
}

void el_ops_free(el_ops *o)
{
    if (o->rowbuf)
        for (int t = 0; t < o->nth; t++) free(o->rowbuf[t]);
    free(o->rowbuf);
    free(o->act);
    o->rowbuf = NULL;
    o->act = NULL;
}

float ops_dot_f32(const float *a, const float *b, int n)
{
    float acc[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) acc[k] += a[i + k] * b[i + k];
    for (; i < n; i++) acc[0] += a[i] * b[i];
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

typedef struct mm_job {
    el_ops *o;
    const el_gguf_tensor *W;
    const float *X;
    float *Y;
    int n;
    size_t row_bytes;
} mm_job;

static void mm_rows(void *arg, int64_t b, int64_t e, int ith)
{
    mm_job *j = arg;
    int64_t in = j->W->ne[0], out = j->W->ne[1];
    for (int64_t r = b; r < e; r++) {
        const void *src = (const uint8_t *)j->W->data + (size_t)r * j->row_bytes;
        const float *w;
        if (j->W->type == EL_TYPE_F32) {
            w = src;
        } else {
            el_dequantize_row(j->W->type, src, j->o->rowbuf[ith], in);
            w = j->o->rowbuf[ith];
        }
        for (int i = 0; i < j->n; i++) j->Y[(size_t)i * out + r] = ops_dot_f32(j->X + (size_t)i * in, w, (int)in);
    }
}

/* The kernel paths (integer and float): a kernel takes one weight row and up
 * to 4 activation rows and writes their 4 dot products. */
typedef void (*tile_fn)(int64_t n, const void *w, const void *x, size_t x_stride, int nr, float *out);

typedef struct tile_job {
    const el_gguf_tensor *W;
    const uint8_t *x;   /* the activations the kernel reads */
    size_t x_row, w_row;
    float *Y;
    int n;
    int64_t rblk;       /* weight rows per cache block */
    tile_fn fn;
    el_fdot_tile_fn ffn; /* float weights: several rows at a time (el_fdot_tile_rows), or NULL */
} tile_job;

/* Weight rows [b, e) in blocks of rblk rows: a block stays in L2 while every
 * group of 4 batch rows passes over it (the 4 activation rows in L1), so the
 * activations stream from memory once per block rather than once per row. */
static void tile_rows(void *arg, int64_t b, int64_t e, int ith)
{
    (void)ith;
    tile_job *j = arg;
    int64_t in = j->W->ne[0], out = j->W->ne[1];
    for (int64_t r0 = b; r0 < e; r0 += j->rblk) {
        int64_t r1 = e - r0 < j->rblk ? e : r0 + j->rblk;
        for (int i = 0; i < j->n; i += 4) {
            int nr = j->n - i < 4 ? j->n - i : 4;
            const uint8_t *x = j->x + (size_t)i * j->x_row;
            for (int64_t r = r0, q; r < r1; r += q) {
                float t2[4 * EL_FDOT_TILE_NW];
                q = j->ffn ? el_fdot_tile_rows(r1 - r) : 1;
                if (q > 1) j->ffn(in, (const uint8_t *)j->W->data + (size_t)r * j->w_row, j->w_row, (int)q, x, j->x_row, nr, t2);
                else j->fn(in, (const uint8_t *)j->W->data + (size_t)r * j->w_row, x, j->x_row, nr, t2);
                for (int64_t w = 0; w < q; w++)
                    for (int k = 0; k < nr; k++) j->Y[(size_t)(i + k) * out + r + w] = t2[4 * w + k];
            }
        }
    }
}

/* Every weight row of W against every batch row, output rows over the pool in
 * cache blocks of about 128 KiB of weights. */
static void run_tiles(el_ops *o, const el_gguf_tensor *W, const void *x, size_t x_row, float *Y, int n, tile_fn fn,
                      el_fdot_tile_fn ffn)
{
    tile_job j = {W, x, x_row, el_row_size(W->type, W->ne[0]), Y, n, 1, fn, ffn};
    j.rblk = (int64_t)((128u << 10) / (j.w_row ? j.w_row : 1));
    if (j.rblk < 1) j.rblk = 1;
    int64_t rows = W->ne[1];
    int64_t chunk = rows / ((int64_t)o->nth * 8);
    if (chunk < 1) chunk = 1;
    el_parallel_for(o->tp, rows, chunk, tile_rows, &j);
}

typedef struct qmm_job {
    const el_gguf_tensor *W;
    el_type type;
    const float *X;
    uint8_t *act;
    size_t act_row;
} qmm_job;

static void quantize_rows(void *arg, int64_t b, int64_t e, int ith)
{
    (void)ith;
    qmm_job *j = arg;
    int64_t in = j->W->ne[0];
    for (int64_t i = b; i < e; i++) el_qdot_quantize_act(j->type, j->X + (size_t)i * in, j->act + (size_t)i * j->act_row, in);
}

/* Integer path: quantise X once, then every weight row meets every batch row. */
static bool matmul_quantized(el_ops *o, const el_gguf_tensor *W, const float *X, int n, float *Y)
{
    el_type t = W->type;
    int64_t in = W->ne[0];
    if (!el_qdot_supported(t) || in % (el_qdot_uses_k(t) ? 256 : 32) != 0) return false;
    el_qdot_fn fn = el_qdot_get(t, (el_qdot_isa)o->isa);
    if (!fn) return false;
    size_t act_row = el_qdot_act_row_bytes(t, in), need = act_row * (size_t)n;
    if (need > o->act_cap) {
        void *p = realloc(o->act, need);
        if (!p) return false;   /* fall back to the float path */
        o->act = p;
        o->act_cap = need;
    }
    qmm_job j = {W, t, X, o->act, act_row};
    el_parallel_for(o->tp, n, n >= 2 * o->nth ? 0 : n, quantize_rows, &j);
    run_tiles(o, W, o->act, act_row, Y, n, fn, NULL);
    return true;
}

typedef struct fmm_job {
    const el_gguf_tensor *W;
    const float *X;
    uint16_t *xbf;      /* X rounded to BF16 (the opt-in vdpbf16ps kernel) */
} fmm_job;

static void round_rows(void *arg, int64_t b, int64_t e, int ith)
{
    (void)ith;
    fmm_job *j = arg;
    int64_t in = j->W->ne[0];
    for (int64_t i = b; i < e; i++) el_fdot_round_bf16(j->X + (size_t)i * in, j->xbf + (size_t)i * in, in);
}

/* Float path: F32 / F16 / BF16 weights widened in registers, F32 activations
 * (or BF16 ones for the opt-in vdpbf16ps kernel). */
static bool matmul_float(el_ops *o, const el_gguf_tensor *W, const float *X, int n, float *Y)
{
    el_type t = W->type;
    el_fdot_isa isa = (el_fdot_isa)o->fisa;
    el_fdot_fn fn = el_fdot_get(t, isa);
    if (!fn) return false;
    int64_t in = W->ne[0];
    const void *x = X;
    size_t x_row = (size_t)in * sizeof(float);
    if (el_fdot_bf16_act(t, isa)) {
        size_t need = (size_t)in * (size_t)n * sizeof(uint16_t);
        if (need > o->act_cap) {
            void *p = realloc(o->act, need);
            if (!p) return false;   /* fall back to the dequantising path */
            o->act = p;
            o->act_cap = need;
        }
        fmm_job j = {W, X, o->act};
        el_parallel_for(o->tp, n, n >= 2 * o->nth ? 0 : n, round_rows, &j);
        x = o->act;
        x_row = (size_t)in * sizeof(uint16_t);
    }
    /* the tile kernels read F32 activations: not with the opt-in BF16 ones */
    run_tiles(o, W, x, x_row, Y, n, fn, el_fdot_bf16_act(t, isa) || n < 2 ? NULL : el_fdot_get_tile(t, isa));
    return true;
}

void el_matmul_tensor(el_ops *o, const el_gguf_tensor *W, const float *X, int n, float *Y)
{
    if (matmul_quantized(o, W, X, n, Y)) return;
    if (matmul_float(o, W, X, n, Y)) return;
    mm_job j = {o, W, X, Y, n, el_row_size(W->type, W->ne[0])};
    int64_t rows = W->ne[1];
    int64_t chunk = rows / ((int64_t)o->nth * 8);
    if (chunk < 1) chunk = 1;
    el_parallel_for(o->tp, rows, chunk, mm_rows, &j);
}

/* Packed products: up to PK_MAX matrices that read the same activations (Q, K
 * and V; gate and up) share one quantisation of them per activation format
 * and one pass of the pool over all their row groups. */
#define PK_MAX 3
typedef struct pk_job {
    int count, n, nq;
    const float *X;
    const el_packed *P[PK_MAX];
    float *Y[PK_MAX];
    const uint8_t *act[PK_MAX];   /* each matrix's quantised activations */
    size_t act_row[PK_MAX];
    int64_t gstart[PK_MAX + 1];   /* first global group of each matrix */
    int64_t gblk[PK_MAX];         /* groups per cache block */
    const el_packed *qp[PK_MAX];  /* one matrix per distinct activation format */
    uint8_t *qact[PK_MAX];
} pk_job;

static void pk_quantize(void *arg, int64_t b, int64_t e, int ith)
{
    (void)ith;
    pk_job *j = arg;
    for (int64_t i = b; i < e; i++) {
        int f = (int)(i / j->n), r = (int)(i % j->n);
        const el_packed *P = j->qp[f];
        el_packed_quantize_act(P, j->X + (size_t)r * P->in, j->qact[f] + (size_t)r * el_packed_act_row_bytes(P));
    }
}

/* Global groups [b, e), matrix by matrix, in cache blocks of gblk groups: a
 * block stays in L2 while the batch passes over it 8 activation rows at a time. */
static void pk_rows(void *arg, int64_t b, int64_t e, int ith)
{
    (void)ith;
    pk_job *j = arg;
    for (int m = 0; m < j->count; m++) {
        int64_t lo = b > j->gstart[m] ? b : j->gstart[m], hi = e < j->gstart[m + 1] ? e : j->gstart[m + 1];
        const el_packed *P = j->P[m];
        for (int64_t g0 = lo; g0 < hi; g0 += j->gblk[m]) {
            int64_t g1 = hi - g0 < j->gblk[m] ? hi : g0 + j->gblk[m];
            int mc = el_packed_max_nc(P);
            for (int c = 0; c < j->n; c += mc) {
                int nc = j->n - c < mc ? j->n - c : mc;
                el_packed_kernel(P, g0 - j->gstart[m], g1 - j->gstart[m], j->act[m] + (size_t)c * j->act_row[m],
                                 j->act_row[m], nc, j->Y[m] + (size_t)c * P->out, (size_t)P->out);
            }
        }
    }
}

static bool same_act(const el_packed *a, const el_packed *b)
{
    return a->in == b->in && el_packed_act_kind(a) == el_packed_act_kind(b);
}

void el_matmul_packed_n(el_ops *o, const el_packed *const *P, float *const *Y, int count, const float *X, int n)
{
    pk_job j = {0};
    j.count = count, j.n = n, j.X = X;
    size_t need = 0;
    int fmt[PK_MAX];
    for (int m = 0; m < count; m++) {
        j.P[m] = P[m], j.Y[m] = Y[m];
        j.gstart[m + 1] = j.gstart[m] + P[m]->groups;
        j.gblk[m] = (int64_t)((256u << 10) / P[m]->group_bytes);
        if (j.gblk[m] < 1) j.gblk[m] = 1;
        j.act_row[m] = el_packed_act_row_bytes(P[m]);
        fmt[m] = -1;
        for (int f = 0; f < j.nq && fmt[m] < 0; f++)
            if (same_act(j.qp[f], P[m])) fmt[m] = f;
        if (fmt[m] < 0) {
            fmt[m] = j.nq;
            j.qp[j.nq++] = P[m];
            need += j.act_row[m] * (size_t)n;
        }
    }
    if (need > o->act_cap) {
        void *p = realloc(o->act, need);
        if (!p) {   /* out of memory: decode each weight row (slow, but right) */
            for (int m = 0; m < count; m++)
                for (int i = 0; i < n; i++)
                    for (int64_t r = 0; r < P[m]->out; r++) {
                        el_packed_get_row(P[m], r, o->rowbuf[0]);
                        Y[m][(size_t)i * P[m]->out + r] = ops_dot_f32(X + (size_t)i * P[m]->in, o->rowbuf[0], (int)P[m]->in);
                    }
            return;
        }
        o->act = p;
        o->act_cap = need;
    }
    uint8_t *at = o->act;
    for (int f = 0; f < j.nq; f++, at += el_packed_act_row_bytes(j.qp[f - 1]) * (size_t)n) j.qact[f] = at;
    for (int m = 0; m < count; m++) j.act[m] = j.qact[fmt[m]];
    int64_t items = (int64_t)j.nq * n;
    el_parallel_for(o->tp, items, items >= 2 * o->nth ? 0 : items, pk_quantize, &j);
    int64_t groups = j.gstart[count], chunk = groups / ((int64_t)o->nth * 4);
    el_parallel_for(o->tp, groups, chunk < 1 ? 1 : chunk, pk_rows, &j);
}

void el_matmul_packed(el_ops *o, const el_packed *P, const float *X, int n, float *Y)
{
    el_matmul_packed_n(o, &P, &Y, 1, X, n);
}
