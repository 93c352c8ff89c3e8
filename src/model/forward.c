/* forward.c -- the llama / qwen2 forward pass over a batch of tokens.
 *
 * For every layer:  x += Wo · attention(rope(Wq·n(x) + bq), rope(Wk·n(x) + bk), Wv·n(x) + bv)
 *                   x += Wdown · (silu(Wgate·n(x)) * Wup·n(x))
 * with n() = RMSNorm times the layer's norm weight; then logits = Wout · n(x).
 * Matrix products with F32 weights follow llama.cpp's CPU arithmetic exactly
 * (below); the other types go through el_matmul_tensor (ops.c). Both split
 * output rows over the context's thread pool. */
#include "model_int.h"
#include "fdot.h"
#include "ops.h"
#include "vexpf.h"
#include "repack.h"

#include <sched.h>
#include <stdatomic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- half-precision helpers: scalar, and F16C for heads of multiples of 8 - */

/* q (already rounded to F16) . k: every product is exact in float (11 x 11
 * bits); the sum runs in double and is rounded once, as llama.cpp's F16 dot
 * does for heads shorter than its vector step (all of a head of 8 or 16). */
static float dot_f32_f16(const float *q, const uint16_t *k, int n)
{
    double s = 0;
    for (int d = 0; d < n; d++) s += (double)(q[d] * el_fp16_to_fp32(k[d]));
    return (float)s;
}
static void scale_f16(uint16_t *acc, float ms, int n)
{
    for (int d = 0; d < n; d++) acc[d] = el_fp32_to_fp16(el_fp16_to_fp32(acc[d]) * ms);
}
/* acc += v * vs in one fused step, rounded to F16 (llama.cpp's compiled F16
 * multiply-add for heads shorter than its vector step) */
static void mad_f16(uint16_t *acc, const uint16_t *v, float vs, int n)
{
    for (int d = 0; d < n; d++) acc[d] = el_fp32_to_fp16(fmaf(el_fp16_to_fp32(v[d]), vs, el_fp16_to_fp32(acc[d])));
}
static void round_f16(float *x, int n)
{
    for (int d = 0; d < n; d++) x[d] = el_fp16_to_fp32(el_fp32_to_fp16(x[d]));
}
static void store_f16(uint16_t *dst, const float *x, int n)
{
    for (int d = 0; d < n; d++) dst[d] = el_fp32_to_fp16(x[d]);
}
/* Prompt batches, portable: F32 scores against the F16 keys, one softmax, an
 * F32 sum over the F16 values (the same arithmetic as the F16C path below,
 * so every architecture takes the same numeric path for batches). */
static void attend_f16(const float *q, const uint16_t *k, const uint16_t *v, size_t stride, int np, int hd,
                       float scale, float *sc, float *o)
{
    float mx = -INFINITY;
    for (int t = 0; t < np; t++) {
        sc[t] = dot_f32_f16(q, k + (size_t)t * stride, hd) * scale;
        mx = sc[t] > mx ? sc[t] : mx;
    }
    float sum = 0;
    for (int t = 0; t < np; t++) sc[t] = expf(sc[t] - mx), sum += sc[t];
    float inv = 1.0f / sum;
    for (int d = 0; d < hd; d++) o[d] = 0;
    for (int u = 0; u < np; u++) {
        const uint16_t *vu = v + (size_t)u * stride;
        for (int d = 0; d < hd; d++) o[d] += sc[u] * el_fp16_to_fp32(vu[d]);
    }
    for (int d = 0; d < hd; d++) o[d] *= inv;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define T_F16C __attribute__((target("avx2,fma,f16c")))
static inline __attribute__((always_inline)) T_F16C float hsum8_f16c(__m256 acc)
{
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}

static inline __attribute__((always_inline)) T_F16C float dot_f32_f16_body(const float *q, const uint16_t *k, int n)
{
    __m256 acc = _mm256_setzero_ps();
    _Pragma("GCC unroll 16")
    for (int d = 0; d < n; d += 8)
        acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(k + d))), acc);
    return hsum8_f16c(acc);
}
static T_F16C float dot_f32_f16_x86(const float *q, const uint16_t *k, int n)
{
    return dot_f32_f16_body(q, k, n);
}
/* dot_f32_f16's arithmetic: exact float products, summed in double in order */
static T_F16C float dot_f32_f16_dsum_x86(const float *q, const uint16_t *k, int n)
{
    double s = 0;
    float p[8];
    for (int d = 0; d < n; d += 8) {
        _mm256_storeu_ps(p, _mm256_mul_ps(_mm256_loadu_ps(q + d), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(k + d)))));
        for (int j = 0; j < 8; j++) s += (double)p[j];
    }
    return (float)s;
}
static T_F16C void scale_f16_x86(uint16_t *acc, float ms, int n)
{
    __m256 m = _mm256_set1_ps(ms);
    for (int d = 0; d < n; d += 8) {
        __m256 a = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(acc + d))), m);
        _mm_storeu_si128((__m128i *)(acc + d), _mm256_cvtps_ph(a, _MM_FROUND_TO_NEAREST_INT));
    }
}
static T_F16C void mad_f16_x86(uint16_t *acc, const uint16_t *v, float vs, int n)
{
    __m256 m = _mm256_set1_ps(vs);
    for (int d = 0; d < n; d += 8) {
        __m256 a = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(acc + d)));
        __m256 b = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(v + d)));
        a = _mm256_fmadd_ps(b, m, a);
        _mm_storeu_si128((__m128i *)(acc + d), _mm256_cvtps_ph(a, _MM_FROUND_TO_NEAREST_INT));
    }
}
static T_F16C void round_f16_x86(float *x, int n)
{
    for (int d = 0; d < n; d += 8)
        _mm256_storeu_ps(x + d, _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_loadu_ps(x + d), _MM_FROUND_TO_NEAREST_INT)));
}
static T_F16C void store_f16_x86(uint16_t *dst, const float *x, int n)
{
    for (int d = 0; d < n; d += 8)
        _mm_storeu_si128((__m128i *)(dst + d), _mm256_cvtps_ph(_mm256_loadu_ps(x + d), _MM_FROUND_TO_NEAREST_INT));
}
/* e^x for x <= 0, 8 lanes: x = n ln2 + r, e^r by a degree-6 polynomial,
 * 2^n through the exponent bits (relative error ~2e-7; x < -87 gives 0) */
static inline __attribute__((always_inline)) T_F16C __m256 exp_neg_x86(__m256 x)
{
    x = _mm256_max_ps(x, _mm256_set1_ps(-87.0f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.0f / 720);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

/* Prompt batches (llama.cpp switches to a tiled F32 kernel there too): scores
 * in F32 against the F16 keys, one softmax, F32 sum over the F16 values. */
/* sc[t] = e^(sc[t] - mx) for t < np; returns 1 / their sum */
static inline __attribute__((always_inline)) T_F16C float softmax_exp_f16c(float *sc, int np, float mx)
{
    __m256 vmx = _mm256_set1_ps(mx), vsum = _mm256_setzero_ps();
    int t = 0;
    for (; t + 8 <= np; t += 8) {
        __m256 e = exp_neg_x86(_mm256_sub_ps(_mm256_loadu_ps(sc + t), vmx));
        _mm256_storeu_ps(sc + t, e);
        vsum = _mm256_add_ps(vsum, e);
    }
    float sum = hsum8_f16c(vsum);
    for (; t < np; t++) sc[t] = expf(sc[t] - mx), sum += sc[t];
    return 1.0f / sum;
}
static T_F16C void attend_f16_x86(const float *q, const uint16_t *k, const uint16_t *v, size_t stride, int np, int hd,
                                  float scale, float *sc, float *o)
{
    float mx = -INFINITY;
    for (int t = 0; t < np; t++) {
        sc[t] = dot_f32_f16_x86(q, k + (size_t)t * stride, hd) * scale;
        mx = sc[t] > mx ? sc[t] : mx;
    }
    float inv = softmax_exp_f16c(sc, np, mx);
    for (int d = 0; d < hd; d += 8) {
        __m256 acc = _mm256_setzero_ps();
        for (int u = 0; u < np; u++)
            acc = _mm256_fmadd_ps(_mm256_set1_ps(sc[u]), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(v + (size_t)u * stride + d))), acc);
        _mm256_storeu_ps(o + d, _mm256_mul_ps(acc, _mm256_set1_ps(inv)));
    }
}

/* The running softmax's factor of every key, before the V sum: e[t] =
 * expf(M_before - qk[t]) where key t raises the running maximum (the sum is
 * rescaled by it, the value weighs 1), else expf(qk[t] - M) (the value's
 * weight). The same expf arguments as the step-by-step loop, all at once
 * (el_vexpf: the C library's expf bit for bit). */
static void running_softmax_factors(const float *qk, float *e, int np)
{
    float M = -INFINITY;
    for (int t = 0; t < np; t++) {
        if (qk[t] > M) {
            e[t] = M - qk[t];
            M = qk[t];
        } else {
            e[t] = qk[t] - M;
        }
    }
    el_vexpf(e, e, np);
}

/* Decode attention reads one K (then V) row of HD halves per position, rows
 * stride apart: a few hundred bytes a miss, spread out, with nothing in
 * between for the hardware prefetcher to hold on to. The loops ask for the row
 * ATT_PF positions ahead. Paired in one process (SmolLM2, 8 tokens at a time,
 * at depth 1024 and 4096): 8-15% faster per token with 32, within noise
 * between 16 and 128. */
#define ATT_PF 32
static inline __attribute__((always_inline)) void att_prefetch_row(const uint16_t *row, const int HD)
{
    for (int l = 0; l < HD * 2; l += 64) __builtin_prefetch((const char *)row + l, 0, 3);
}

/* Decode attention of one head, llama.cpp's CPU flash-attention numerics (the
 * loop in attention_items, bit for bit): q (rounded to F16) . every key, then
 * the running softmax with the V sum kept in F16. Here the F16 accumulator
 * lives in registers as floats that are rounded through F16 after every
 * step (vcvtps2ph + vcvtph2ps), not in memory. The factors of every step
 * come first (running_softmax_factors), so no expf stalls the V sum. qk: 2 np
 * floats of scratch. HD: 64 or 128. */
static inline __attribute__((always_inline)) T_F16C void flash1_body(const float *q, const uint16_t *k,
                                                                     const uint16_t *v, size_t stride, int np,
                                                                     float scale, float *qk, float *o, const int HD)
{
    float *e = qk + np, M = -INFINITY;
    for (int t = 0; t < np; t++) {
        if (t + ATT_PF < np) att_prefetch_row(k + (size_t)(t + ATT_PF) * stride, HD);
        qk[t] = dot_f32_f16_body(q, k + (size_t)t * stride, HD) * scale;
    }
    running_softmax_factors(qk, e, np);
    __m256 acc[16];
    _Pragma("GCC unroll 16")
    for (int d = 0; d < HD / 8; d++) acc[d] = _mm256_setzero_ps();
    float S = 0;
    for (int t = 0; t < np; t++) {
        const uint16_t *vt = v + (size_t)t * stride;
        if (t + ATT_PF < np) att_prefetch_row(vt + ATT_PF * stride, HD);
        float ms = 1.0f, vs = 1.0f;
        if (qk[t] > M) ms = e[t], M = qk[t];
        else vs = e[t];
        /* a rescale by exactly 1 leaves an F16 value as it is: skipped */
        if (ms != 1.0f) {
            __m256 m = _mm256_set1_ps(ms);
            _Pragma("GCC unroll 16")
            for (int d = 0; d < HD / 8; d++)
                acc[d] = _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_mul_ps(acc[d], m), _MM_FROUND_TO_NEAREST_INT));
        }
        __m256 w = _mm256_set1_ps(vs);
        _Pragma("GCC unroll 16")
        for (int d = 0; d < HD / 8; d++) {
            __m256 b = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(vt + 8 * d)));
            acc[d] = _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_fmadd_ps(b, w, acc[d]), _MM_FROUND_TO_NEAREST_INT));
        }
        S = fmaf(S, ms, vs);
    }
    __m256 inv = _mm256_set1_ps(1.0f / S);
    _Pragma("GCC unroll 16")
    for (int d = 0; d < HD / 8; d++) _mm256_storeu_ps(o + 8 * d, _mm256_mul_ps(acc[d], inv));
}
static T_F16C void flash1_64_x86(const float *q, const uint16_t *k, const uint16_t *v, size_t stride, int np,
                                 float scale, float *qk, float *o)
{
    flash1_body(q, k, v, stride, np, scale, qk, o, 64);
}
static T_F16C void flash1_128_x86(const float *q, const uint16_t *k, const uint16_t *v, size_t stride, int np,
                                  float scale, float *qk, float *o)
{
    flash1_body(q, k, v, stride, np, scale, qk, o, 128);
}
#define HAVE_F16C_PATH 1
/* Several query heads of one KV head at once (grouped-query attention): the
 * V sum of every head is a chain of dependent F16 roundings per step, so one
 * head leaves the vector units waiting; G heads interleaved share each value
 * row and fill them. Per head the numbers are flash1_body's exactly (16
 * lanes of the same element-wise operations; the same dot, expf and fmaf).
 * sc: G x 2 np floats of scratch. HD 64: G <= 4, HD 128: G <= 2. */
#define T_AVX512F __attribute__((target("avx512f,avx2,fma,f16c")))
/* scores of G query heads against keys [0, np): sc[ss * g + t] = q[g] . k_t *
 * scale, each key widened once for the G heads; per head the FMA chain and
 * horizontal sum of dot_f32_f16_body. mx (may be NULL): each head's maximum. */
static inline __attribute__((always_inline)) T_AVX512F void qk_group(const float *const *q, const uint16_t *k, size_t stride,
                                                                     int np, float scale, float *sc, size_t ss, float *mx,
                                                                     const int HD, const int G)
{
    for (int t = 0; t < np; t++) {
        __m256 kk[16];
        const uint16_t *kt = k + (size_t)t * stride;
        if (t + ATT_PF < np) att_prefetch_row(kt + ATT_PF * stride, HD);
        _Pragma("GCC unroll 16")
        for (int d = 0; d < HD / 8; d++) kk[d] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(kt + 8 * d)));
        _Pragma("GCC unroll 4")
        for (int g = 0; g < G; g++) {
            __m256 a = _mm256_setzero_ps();
            _Pragma("GCC unroll 16")
            for (int d = 0; d < HD / 8; d++) a = _mm256_fmadd_ps(_mm256_loadu_ps(q[g] + 8 * d), kk[d], a);
            float s = hsum8_f16c(a) * scale;
            sc[ss * g + t] = s;
            if (mx) mx[g] = s > mx[g] ? s : mx[g];
        }
    }
}

/* The kernels for head sizes 64 (G <= 4) and 128 (G <= 2), G a constant in each. */
#define GROUP_KERNELS(NAME)                                                                                          \
    static T_AVX512F void NAME##_64_x86(const float *const *q, const uint16_t *k, const uint16_t *v, size_t stride,  \
                                        int np, float scale, float *sc, float *const *o, int G)                     \
    {                                                                                                                \
        switch (G) {                                                                                                 \
        case 4: NAME##_body(q, k, v, stride, np, scale, sc, o, 64, 4); break;                                        \
        case 3: NAME##_body(q, k, v, stride, np, scale, sc, o, 64, 3); break;                                        \
        case 2: NAME##_body(q, k, v, stride, np, scale, sc, o, 64, 2); break;                                        \
        default: NAME##_body(q, k, v, stride, np, scale, sc, o, 64, 1); break;                                       \
        }                                                                                                            \
    }                                                                                                                \
    static T_AVX512F void NAME##_128_x86(const float *const *q, const uint16_t *k, const uint16_t *v, size_t stride, \
                                         int np, float scale, float *sc, float *const *o, int G)                    \
    {                                                                                                                \
        if (G == 2) NAME##_body(q, k, v, stride, np, scale, sc, o, 128, 2);                                          \
        else NAME##_body(q, k, v, stride, np, scale, sc, o, 128, 1);                                                 \
    }

static inline __attribute__((always_inline)) T_AVX512F void flashg_body(const float *const *q, const uint16_t *k,
                                                                        const uint16_t *v, size_t stride, int np,
                                                                        float scale, float *sc, float *const *o,
                                                                        const int HD, const int G)
{
    qk_group(q, k, stride, np, scale, sc, 2 * (size_t)np, NULL, HD, G);
    for (int g = 0; g < G; g++) running_softmax_factors(sc + 2 * (size_t)np * g, sc + 2 * (size_t)np * g + np, np);
    __m512 acc[4][8];
    float S[4], M[4];
    for (int g = 0; g < G; g++) {
        S[g] = 0, M[g] = -INFINITY;
        _Pragma("GCC unroll 16")
        for (int d = 0; d < HD / 16; d++) acc[g][d] = _mm512_setzero_ps();
    }
    for (int t = 0; t < np; t++) {
        const uint16_t *vt = v + (size_t)t * stride;
        if (t + ATT_PF < np) att_prefetch_row(vt + ATT_PF * stride, HD);
        __m512 b[8];
        _Pragma("GCC unroll 16")
        for (int d = 0; d < HD / 16; d++) b[d] = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(vt + 16 * d)));
        _Pragma("GCC unroll 4")
        for (int g = 0; g < G; g++) {
            const float *qk = sc + 2 * (size_t)np * g, *e = qk + np;
            float ms = 1.0f, vs = 1.0f;
            if (qk[t] > M[g]) ms = e[t], M[g] = qk[t];
            else vs = e[t];
            if (ms != 1.0f) {
                __m512 m = _mm512_set1_ps(ms);
                _Pragma("GCC unroll 16")
                for (int d = 0; d < HD / 16; d++)
                    acc[g][d] = _mm512_cvtph_ps(_mm512_cvtps_ph(_mm512_mul_ps(acc[g][d], m), _MM_FROUND_TO_NEAREST_INT));
            }
            __m512 w = _mm512_set1_ps(vs);
            _Pragma("GCC unroll 16")
            for (int d = 0; d < HD / 16; d++)
                acc[g][d] = _mm512_cvtph_ps(_mm512_cvtps_ph(_mm512_fmadd_ps(b[d], w, acc[g][d]), _MM_FROUND_TO_NEAREST_INT));
            S[g] = fmaf(S[g], ms, vs);
        }
    }
    for (int g = 0; g < G; g++) {
        __m512 inv = _mm512_set1_ps(1.0f / S[g]);
        _Pragma("GCC unroll 16")
        for (int d = 0; d < HD / 16; d++) _mm512_storeu_ps(o[g] + 16 * d, _mm512_mul_ps(acc[g][d], inv));
    }
}
GROUP_KERNELS(flashg)

/* attend_f16_x86 for G query heads of one KV head at one position (prompt
 * batches): each key and value row is loaded and widened once for the G
 * heads, and the values are summed in one pass over the rows (the loop
 * above makes HD / 8 passes, 8 dimensions each). Per head and dimension the
 * same operations in the same order (the same dot, exp and FMA chain over
 * the rows; 16 lanes instead of 8 change nothing lane by lane), so the result
 * is attend_f16_x86's bit for bit. sc: G x np floats. HD 64: G <= 4, 128: G <= 2. */
static inline __attribute__((always_inline)) T_AVX512F void attendg_body(const float *const *q, const uint16_t *k,
                                                                         const uint16_t *v, size_t stride, int np,
                                                                         float scale, float *sc, float *const *o,
                                                                         const int HD, const int G)
{
    float mx[4], inv[4];
    for (int g = 0; g < G; g++) mx[g] = -INFINITY;
    qk_group(q, k, stride, np, scale, sc, (size_t)np, mx, HD, G);
    for (int g = 0; g < G; g++) inv[g] = softmax_exp_f16c(sc + (size_t)np * g, np, mx[g]);
    __m512 acc[4][8];
    for (int g = 0; g < G; g++) {
        _Pragma("GCC unroll 16")
        for (int d = 0; d < HD / 16; d++) acc[g][d] = _mm512_setzero_ps();
    }
    for (int u = 0; u < np; u++) {
        const uint16_t *vu = v + (size_t)u * stride;
        if (u + ATT_PF < np) att_prefetch_row(vu + ATT_PF * stride, HD);
        __m512 b[8];
        _Pragma("GCC unroll 16")
        for (int d = 0; d < HD / 16; d++) b[d] = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(vu + 16 * d)));
        _Pragma("GCC unroll 4")
        for (int g = 0; g < G; g++) {
            __m512 w = _mm512_set1_ps(sc[(size_t)np * g + u]);
            _Pragma("GCC unroll 16")
            for (int d = 0; d < HD / 16; d++) acc[g][d] = _mm512_fmadd_ps(w, b[d], acc[g][d]);
        }
    }
    for (int g = 0; g < G; g++) {
        __m512 m = _mm512_set1_ps(inv[g]);
        _Pragma("GCC unroll 16")
        for (int d = 0; d < HD / 16; d++) _mm512_storeu_ps(o[g] + 16 * d, _mm512_mul_ps(acc[g][d], m));
    }
}
GROUP_KERNELS(attendg)
#endif

typedef struct f16_ops {
    /* prompt batches: o (hd) = softmax(scale * q.K[0..np)) . V[0..np), F32 math (NULL: none) */
    void (*attend)(const float *q, const uint16_t *k, const uint16_t *v, size_t stride, int np, int hd, float scale,
                   float *sc, float *o);
    float (*dot)(const float *, const uint16_t *, int);
    void (*scale)(uint16_t *, float, int);
    void (*mad)(uint16_t *, const uint16_t *, float, int);
    void (*round)(float *, int);
    void (*store)(uint16_t *, const float *, int);
    /* one query row, flash-attention numerics (NULL: the loop in attention_items) */
    void (*flash1)(const float *q, const uint16_t *k, const uint16_t *v, size_t stride, int np, float scale,
                   float *qk, float *o);
    /* flash1 for G <= gmax query heads of one KV head at once (NULL: none) */
    void (*flashg)(const float *const *q, const uint16_t *k, const uint16_t *v, size_t stride, int np, float scale,
                   float *sc, float *const *o, int G);
    int gmax;
    /* attend for G <= gmax query heads of one KV head at once (NULL: none) */
    void (*attendg)(const float *const *q, const uint16_t *k, const uint16_t *v, size_t stride, int np, float scale,
                    float *sc, float *const *o, int G);
} f16_ops;

/* Vector paths for heads that are multiples of 8. scale / mad / round / store
 * are the scalar helpers' arithmetic 8 lanes at a time (bit-identical); the
 * vector dot and the batched path (a different summation) only for heads of
 * >= 16; short heads keep the exact double-sum dot, which is what matches
 * llama.cpp on tiny models. */
static f16_ops pick_f16_ops(int head_dim)
{
    f16_ops o = {NULL, dot_f32_f16, scale_f16, mad_f16, round_f16, store_f16, NULL, NULL, 0, NULL};
    // the batched F32 path for the same head sizes on every architecture
    if (head_dim >= 16 && head_dim % 8 == 0) o.attend = attend_f16;
#ifdef HAVE_F16C_PATH
    const el_cpu_features *f = el_cpu();
    if (f->avx2 && f->fma && f->f16c && head_dim % 8 == 0 && !getenv("EL_KERNELS_SCALAR_ATTN")) {
        if (head_dim >= 16)
            o = (f16_ops){attend_f16_x86, dot_f32_f16_x86, scale_f16_x86, mad_f16_x86, round_f16_x86, store_f16_x86,
                          head_dim == 64 ? flash1_64_x86 : head_dim == 128 ? flash1_128_x86 : NULL, NULL, 0, NULL};
        else
            o = (f16_ops){NULL, dot_f32_f16_dsum_x86, scale_f16_x86, mad_f16_x86, round_f16_x86, store_f16_x86, NULL, NULL, 0,
                          NULL};
        if (f->avx512f && (head_dim == 64 || head_dim == 128)) {
            o.flashg = head_dim == 64 ? flashg_64_x86 : flashg_128_x86;
            o.attendg = head_dim == 64 ? attendg_64_x86 : attendg_128_x86;
            o.gmax = head_dim == 64 ? 4 : 2;
        }
        /* EL_ATTN_FUSED=0: the step-by-step loop (the fused kernels' test compares them);
         * EL_ATTN_FUSED=1: one head at a time (flash1 in decode, attend in prompt batches) */
        const char *fz = getenv("EL_ATTN_FUSED");
        if (fz && !strcmp(fz, "0")) o.flash1 = NULL;
        if (fz && (!strcmp(fz, "0") || !strcmp(fz, "1"))) o.flashg = NULL, o.attendg = NULL;
    }
#else
    (void)head_dim;
#endif
    return o;
}

/* ---- llama.cpp's float arithmetic ------------------------------------------
 * With an F16 KV cache every key, value and query is rounded to 11 bits, so a
 * difference in the last float bit of q, k or v (summation order, a fused or
 * separate multiply-add) sometimes moves a key or a partial attention sum by a
 * whole half-precision step, and on a small model that shows in the logits at
 * the 1e-3 level (stories260K p2: 5.3e-3 before this). The pass therefore
 * repeats the float arithmetic of llama.cpp's CPU backend as built for an
 * AVX-512 CPU (GCC, -O3 -march=native: the build that made the references),
 * on every architecture. Checked tensor by tensor against that build
 * (llama.cpp 34af94cd, stories260K, F16 cache + flash attention): every
 * intermediate tensor and every logit is bit-identical.
 *   - products with F32 weights, batches (n >= 2, length a multiple of 16,
 *     output rows a multiple of 4): one 16-lane FMA accumulator per output
 *     over steps of 16, then a horizontal sum (halves of 8, of 4, then
 *     (0+2) + (1+3));
 *   - otherwise (one row, or lengths like n_ff = 172): four 16-lane FMA
 *     accumulators over steps of 64 folded (0+2) + (1+3), the same horizontal
 *     sum, then the rest as ll_vdot_tail describes;
 *   - SwiGLU: silu by the backend's vector exp (a degree-5 polynomial, exact
 *     FMA steps) for each full block of 16 of a row, libm expf for the rest;
 *   - RMSNorm: squares rounded to float, summed in double (rmsnorm); RoPE:
 *     the first product of each rotated pair fused (rope_head);
 *   - flash attention, short heads: q.k summed in double (dot_f32_f16), V
 *     accumulated by fused multiply-adds rounded to F16 (mad_f16), the sum of
 *     weights S = S * ms + vs fused;
 *   - the last layer's feed-forward part only for the rows whose logits are
 *     kept (el_decode), so its products take the single-row order when only
 *     the last row is wanted.
 * Other weight types keep ops.c's kernels (not llama.cpp's order). */

/* The products left after the 64-element steps of the single-row order, added
 * one at a time in the way the compiled backend does it: its compiler
 * vectorised the products of the leading multiples of 8 (rounded, then added
 * in order) and fused the last k % 8 into FMAs. */
static float ll_vdot_tail(float sum, const float *w, const float *x, int i, int k)
{
    int fused = i + ((k - i) & ~7);
    for (; i < fused; i++) {
        volatile float p = w[i] * x[i];   /* kept apart: no contraction into an FMA */
        sum += p;
    }
    for (; i < k; i++) sum = fmaf(w[i], x[i], sum);
    return sum;
}

/* a[0..15] summed as _mm512_reduce_add_ps sums its lanes */
static inline float ll_hsum16(const float *a)
{
    float b[8], c[4];
    for (int j = 0; j < 8; j++) b[j] = a[j] + a[j + 8];
    for (int j = 0; j < 4; j++) c[j] = b[j] + b[j + 4];
    return (c[0] + c[2]) + (c[1] + c[3]);
}

/* The batch (GEMM) order: out[r] = w . x_r for nr <= 4 rows x_r = x + r * k. */
static void ll_gemm_scalar(const float *w, const float *x, int k, int nr, float *out)
{
    for (int r = 0; r < nr; r++) {
        const float *xr = x + (size_t)r * k;
        float acc[16] = {0};
        for (int l = 0; l < k; l += 16)
            for (int j = 0; j < 16; j++) acc[j] = fmaf(w[l + j], xr[l + j], acc[j]);
        out[r] = ll_hsum16(acc);
    }
}

/* The single-row (vector dot) order, any k. */
static float ll_vdot_scalar(const float *w, const float *x, int k)
{
    float s[4][16] = {{0}};
    int np = k & ~63;
    for (int i = 0; i < np; i += 64)
        for (int q = 0; q < 4; q++)
            for (int j = 0; j < 16; j++) s[q][j] = fmaf(w[i + 16 * q + j], x[i + 16 * q + j], s[q][j]);
    for (int j = 0; j < 16; j++) s[0][j] = (s[0][j] + s[2][j]) + (s[1][j] + s[3][j]);
    float sum = ll_hsum16(s[0]);
    return ll_vdot_tail(sum, w, x, np, k);
}

#ifdef HAVE_F16C_PATH
/* The same two orders, each 16-lane accumulator as two 8-lane halves (the
 * lanes are independent, so the result is bit-identical). */
static inline __attribute__((always_inline)) T_F16C float ll_hsum16_x86(__m256 lo, __m256 hi)
{
    return hsum8_f16c(_mm256_add_ps(lo, hi));
}

static T_F16C void ll_gemm_x86(const float *w, const float *x, int k, int nr, float *out)
{
    __m256 lo[4], hi[4];
    for (int r = 0; r < 4; r++) lo[r] = hi[r] = _mm256_setzero_ps();
    for (int l = 0; l < k; l += 16) {
        __m256 w0 = _mm256_loadu_ps(w + l), w1 = _mm256_loadu_ps(w + l + 8);
        for (int r = 0; r < nr; r++) {
            const float *xr = x + (size_t)r * k + l;
            lo[r] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xr), lo[r]);
            hi[r] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(xr + 8), hi[r]);
        }
    }
    for (int r = 0; r < nr; r++) out[r] = ll_hsum16_x86(lo[r], hi[r]);
}

static T_F16C float ll_vdot_x86(const float *w, const float *x, int k)
{
    __m256 s[4][2];
    for (int q = 0; q < 4; q++) s[q][0] = s[q][1] = _mm256_setzero_ps();
    int np = k & ~63;
    for (int i = 0; i < np; i += 64)
        for (int q = 0; q < 4; q++)
            for (int h = 0; h < 2; h++) {
                int o = i + 16 * q + 8 * h;
                s[q][h] = _mm256_fmadd_ps(_mm256_loadu_ps(w + o), _mm256_loadu_ps(x + o), s[q][h]);
            }
    __m256 lo = _mm256_add_ps(_mm256_add_ps(s[0][0], s[2][0]), _mm256_add_ps(s[1][0], s[3][0]));
    __m256 hi = _mm256_add_ps(_mm256_add_ps(s[0][1], s[2][1]), _mm256_add_ps(s[1][1], s[3][1]));
    float sum = ll_hsum16_x86(lo, hi);
    return ll_vdot_tail(sum, w, x, np, k);
}
#endif

typedef struct ll_mm_job {
    const float *W, *X;
    float *Y;
    int k, m, n;
    bool gemm, x86;
} ll_mm_job;

/* Weight rows [b, e) in blocks of ~128 KiB (a block stays in L2 while every
 * group of 4 batch rows passes over it), as ops.c does. */
static void ll_mm_rows(void *arg, int64_t b, int64_t e, int ith)
{
    (void)ith;
    ll_mm_job *j = arg;
    float tmp[4];
    int64_t rblk = (int64_t)((128u << 10) / ((size_t)j->k * sizeof(float)));
    if (rblk < 1) rblk = 1;
    for (int64_t r0 = b; r0 < e; r0 += rblk) {
        int64_t r1 = e - r0 < rblk ? e : r0 + rblk;
        for (int i = 0; i < j->n; i += 4) {
            int nr = j->n - i < 4 ? j->n - i : 4;
            const float *x = j->X + (size_t)i * j->k;
            for (int64_t r = r0; r < r1; r++) {
                const float *w = j->W + (size_t)r * j->k;
                if (j->gemm) {
#ifdef HAVE_F16C_PATH
                    if (j->x86)
                        ll_gemm_x86(w, x, j->k, nr, tmp);
                    else
#endif
                        ll_gemm_scalar(w, x, j->k, nr, tmp);
                } else {
                    for (int q = 0; q < nr; q++) {
                        const float *xq = x + (size_t)q * j->k;
#ifdef HAVE_F16C_PATH
                        tmp[q] = j->x86 ? ll_vdot_x86(w, xq, j->k) : ll_vdot_scalar(w, xq, j->k);
#else
                        tmp[q] = ll_vdot_scalar(w, xq, j->k);
#endif
                    }
                }
                for (int q = 0; q < nr; q++) j->Y[(size_t)(i + q) * j->m + r] = tmp[q];
            }
        }
    }
}

/* e^x, one lane of the backend's vector exp: x = n ln2 + b (n by the
 * 1.5 * 2^23 rounding trick, ln2 in two parts), e^b by a degree-5 polynomial
 * in Estrin form, then scaled by 2^n. */
static float ll_expf(float x)
{
    const float shift = 0x1.8p23f;
    float z = fmaf(x, 0x1.715476p+0f, shift);
    float n = z - shift;
    float b = fmaf(-n, 0x1.7f7d1cp-20f, fmaf(-n, 0x1.62e4p-1f, x));
    float u = b * b;
    float p = fmaf(fmaf(fmaf(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, fmaf(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)), u,
                   fmaf(0x1.ffffecp-1f, b, 1.0f));
    if (fabsf(n) > 192.0f) return n > 0 ? INFINITY : 0.0f;
    return ldexpf(p, (int)n);
}

#ifdef HAVE_F16C_PATH
/* 8 lanes of silu(g) * u with ll_expf's arithmetic; false (nothing written)
 * if a lane needs a scale outside the normal exponents (|n| > 126), which
 * the scalar ldexpf rounds once and a two-step scale might not */
static T_F16C bool ll_swiglu8_x86(float *g, const float *u)
{
    __m256 x = _mm256_loadu_ps(g), nx = _mm256_sub_ps(_mm256_setzero_ps(), x);
    const __m256 shift = _mm256_set1_ps(0x1.8p23f);
    __m256 z = _mm256_fmadd_ps(nx, _mm256_set1_ps(0x1.715476p+0f), shift);
    __m256 n = _mm256_sub_ps(z, shift);
    __m256 b = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.7f7d1cp-20f), _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e4p-1f), nx));
    __m256 big = _mm256_cmp_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), n), _mm256_set1_ps(126.0f), _CMP_GT_OQ);
    if (_mm256_movemask_ps(big)) return false;
    __m256 uu = _mm256_mul_ps(b, b);
    __m256 p = _mm256_fmadd_ps(
        _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(0x1.0e4020p-7f), b, _mm256_set1_ps(0x1.573e2ep-5f)), uu,
                        _mm256_fmadd_ps(_mm256_set1_ps(0x1.555e66p-3f), b, _mm256_set1_ps(0x1.fffdb6p-2f))),
        uu, _mm256_fmadd_ps(_mm256_set1_ps(0x1.ffffecp-1f), b, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    __m256 ex = _mm256_mul_ps(p, _mm256_castsi256_ps(e));   /* exact: a power of two, normal result */
    __m256 silu = _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), ex));
    _mm256_storeu_ps(g, _mm256_mul_ps(silu, _mm256_loadu_ps(u)));
    return true;
}
#endif

/* g (rows, n) = silu(g) * u, row by row as described above */
static void swiglu_rows(float *g, const float *u, int rows, int n)
{
#ifdef HAVE_F16C_PATH
    const el_cpu_features *f = el_cpu();
    bool x86 = f->avx2 && f->fma;
#endif
    for (int r = 0; r < rows; r++) {
        float *gr = g + (size_t)r * n;
        const float *ur = u + (size_t)r * n;
        int i = n - n % 16;
        for (int t = 0; t < i; t += 8) {
#ifdef HAVE_F16C_PATH
            if (x86 && ll_swiglu8_x86(gr + t, ur + t)) continue;
#endif
            for (int l = t; l < t + 8; l++) gr[l] = gr[l] / (1.0f + ll_expf(0.0f - gr[l])) * ur[l];
        }
        for (; i < n; i++) gr[i] = gr[i] / (1.0f + expf(-gr[i])) * ur[i];
    }
}

static void rope_heads(float *h, int nh, int hd, const float *cst, const el_hparams *hp);
#ifdef HAVE_F16C_PATH
static T_F16C void rope_heads_x86(float *h, int nh, int hd, const float *cst, const el_hparams *hp);
#endif

struct region;
static struct region *region_new(el_context *c);
static void region_free(struct region *r);

/* batches of at least this many tokens use the F32 softmax of h.attend */
#define EL_ATTN_TILE_MIN 32
#define EL_FLASH_GMAX 4   /* most query heads attended at once (f16_ops.flashg) */

struct el_context {
    el_model *m;
    int n_ctx, n_past;
    el_threads *tp;
    el_ops ops;
    el_type kv_type;            /* F32 or F16 */
    bool flash;                 /* F16 only: llama.cpp's flash-attention numerics */
    f16_ops h;                  /* half-precision helpers for this head size */
    void (*rope_fn)(float *h, int nh, int hd, const float *cst, const el_hparams *hp);
    void *k_cache, *v_cache;    /* [n_layer][n_ctx][kv_dim] of kv_type */
    float *qh;                  /* [n_threads][EL_FLASH_GMAX * head_dim]: queries rounded to F16 */
    /* batch scratch, grown on demand to `cap` rows */
    int cap;
    float *x, *xb, *q, *k, *v, *att, *hb, *hb2;
    float *rope;                /* [cap][n_rot]: cos, sin of each rotated pair of the row's position */
    float *scores;              /* [n_threads][score_stride] */
    int score_stride;
    float *logits;              /* [logit_rows][n_vocab] */
    int logit_cap, logit_first, logit_rows;
    /* single-token decode in one pass of the pool (decode1 below), NULL when not used */
    struct region *rg;
};

static void free_scratch(el_context *c)
{
    free(c->x), free(c->xb), free(c->q), free(c->k), free(c->v), free(c->att), free(c->hb), free(c->hb2);
    free(c->rope);
    c->x = c->xb = c->q = c->k = c->v = c->att = c->hb = c->hb2 = c->rope = NULL;
    c->cap = 0;
}

static int grow_scratch(el_context *c, int n, el_err *err)
{
    if (n <= c->cap) return 0;
    const el_hparams *hp = &c->m->hp;
    size_t d = (size_t)hp->n_embd, qd = (size_t)hp->n_head * hp->head_dim, kvd = (size_t)hp->n_head_kv * hp->head_dim;
    size_t per_row = (3 * d + 2 * qd + 2 * kvd + 2 * (size_t)hp->n_ff + (size_t)hp->n_rot) * sizeof(float);
    if (el_mem_check((uint64_t)per_row * (uint64_t)n, "batch scratch", err)) return -1;
    free_scratch(c);
    size_t rows = (size_t)n;
    c->x = malloc(rows * d * sizeof(float));
    c->xb = malloc(rows * d * sizeof(float));
    c->att = malloc(rows * qd * sizeof(float));
    c->q = malloc(rows * qd * sizeof(float));
    c->k = malloc(rows * kvd * sizeof(float));
    c->v = malloc(rows * kvd * sizeof(float));
    c->hb = malloc(rows * (size_t)hp->n_ff * sizeof(float));
    c->hb2 = malloc(rows * (size_t)hp->n_ff * sizeof(float));
    c->rope = malloc(rows * (size_t)hp->n_rot * sizeof(float));
    if (!c->x || !c->xb || !c->att || !c->q || !c->k || !c->v || !c->hb || !c->hb2 || !c->rope) {
        free_scratch(c);
        return el_errf(err, "out of memory for a batch of %d tokens (%zu bytes)", n, per_row * rows);
    }
    c->cap = n;
    return 0;
}

el_context_params el_context_default_params(void)
{
    el_context_params p = {0, el_physical_cores(), EL_TYPE_F16, true};
    return p;
}

el_context *el_context_new(el_model *m, int n_ctx, int n_threads, el_err *err)
{
    el_context_params p = {n_ctx, n_threads, EL_TYPE_F16, true};
    return el_context_new_ex(m, &p, err);
}

el_context *el_context_new_ex(el_model *m, const el_context_params *prm, el_err *err)
{
    const el_hparams *hp = &m->hp;
    int n_ctx = prm->n_ctx, n_threads = prm->n_threads;
    if (prm->kv_type != EL_TYPE_F32 && prm->kv_type != EL_TYPE_F16) {
        el_errf(err, "KV cache type must be f32 or f16");
        return NULL;
    }
    size_t kv_es = prm->kv_type == EL_TYPE_F32 ? 4 : 2;
    if (n_ctx <= 0) n_ctx = hp->n_ctx_train;
    if (n_ctx > (1 << 20)) {
        el_errf(err, "context of %d tokens is too large (at most %d)", n_ctx, 1 << 20);
        return NULL;
    }
    size_t kvd = (size_t)hp->n_head_kv * hp->head_dim;
    uint64_t kv_bytes = 2ull * (uint64_t)hp->n_layer * (uint64_t)n_ctx * kvd * kv_es;
    char what[96];
    snprintf(what, sizeof what, "the KV cache for %d tokens", n_ctx);
    if (el_mem_check(kv_bytes, what, err)) return NULL;
    el_context *c = el_calloc(1, sizeof *c, err);
    if (!c) return NULL;
    c->m = m;
    c->n_ctx = n_ctx;
    c->kv_type = prm->kv_type;
    c->flash = prm->flash_attn;
    c->h = pick_f16_ops(hp->head_dim);
    c->rope_fn = rope_heads;
#ifdef HAVE_F16C_PATH
    if (el_cpu()->fma && el_cpu()->avx2) c->rope_fn = rope_heads_x86;
#endif
    c->tp = el_threads_new(n_threads, err);
    if (!c->tp) goto fail;
    c->k_cache = malloc(kv_bytes / 2);
    c->v_cache = malloc(kv_bytes / 2);
    /* per thread: n_ctx scores, which the flash path reuses as head_dim halves */
    c->score_stride = 2 * EL_FLASH_GMAX * n_ctx + hp->head_dim;   /* scores (the fused kernels': 2 per key and head), or an F16 accumulator and the scores after it */
    c->scores = malloc((size_t)el_threads_count(c->tp) * (size_t)c->score_stride * sizeof(float));
    c->qh = malloc((size_t)el_threads_count(c->tp) * EL_FLASH_GMAX * (size_t)hp->head_dim * sizeof(float));
    if (!c->k_cache || !c->v_cache || !c->scores || !c->qh) {
        el_errf(err, "out of memory for %s (%.1f MiB)", what, (double)kv_bytes / (1 << 20));
        goto fail;
    }
    int64_t max_row = hp->n_ff > hp->n_embd ? hp->n_ff : hp->n_embd;
    if ((int64_t)hp->n_head * hp->head_dim > max_row) max_row = (int64_t)hp->n_head * hp->head_dim;
    if (el_ops_init(&c->ops, c->tp, max_row, err)) goto fail;
    c->rg = region_new(c);   /* NULL: single tokens take the general path */
    return c;
fail:
    el_context_free(c);
    return NULL;
}

void el_context_free(el_context *c)
{
    if (!c) return;
    el_ops_free(&c->ops);
    el_threads_free(c->tp);
    free_scratch(c);
    free(c->k_cache), free(c->v_cache), free(c->scores), free(c->qh), free(c->logits);
    region_free(c->rg);
    free(c);
}

int el_context_n_ctx(const el_context *c) { return c->n_ctx; }
bool el_context_one_pass_decode(const el_context *c) { return c->rg != NULL; }
const el_model *el_context_model(const el_context *c) { return c->m; }
el_threads *el_context_threads(el_context *c) { return c->tp; }
void el_context_reset(el_context *c) { c->n_past = 0, c->logit_rows = 0; }

const float *el_get_logits(const el_context *c, int i)
{
    if (c->logit_rows == 0) return NULL;
    if (i < 0) i = c->logit_first + c->logit_rows - 1;
    if (i < c->logit_first || i >= c->logit_first + c->logit_rows) return NULL;
    return c->logits + (size_t)(i - c->logit_first) * (size_t)c->m->hp.n_vocab;
}

/* Y (n, W.ne1) = X (n, W.ne0) @ W^T: F32 weights in llama.cpp's order (see
 * above), the other types through ops.c. */
static void matmul(el_context *c, const el_gguf_tensor *W, const float *X, int n, float *Y)
{
    if (W->type != EL_TYPE_F32) {
        const struct el_packed *P = el_model_packed(c->m, W);
        if (P) el_matmul_packed(&c->ops, P, X, n, Y);
        else el_matmul_tensor(&c->ops, W, X, n, Y);
        return;
    }
    int k = (int)W->ne[0], m = (int)W->ne[1];
    ll_mm_job j = {W->data, X, Y, k, m, n, n >= 2 && k % 16 == 0 && m % 4 == 0, false};
#ifdef HAVE_F16C_PATH
    const el_cpu_features *f = el_cpu();
    j.x86 = f->avx2 && f->fma && f->f16c && c->ops.fisa != EL_FDOT_SCALAR;   /* EL_KERNELS=scalar: portable code */
#endif
    int64_t chunk = m / ((int64_t)el_threads_count(c->tp) * 8);
    el_parallel_for(c->tp, m, chunk < 1 ? 1 : chunk, ll_mm_rows, &j);
}

/* Products of the same X with count (<= 3) weights: in one pass when all are
 * packed, else one at a time. */
static void matmul3(el_context *c, const el_gguf_tensor *const *W, float *const *Y, int count, const float *X, int n)
{
    const struct el_packed *P[3];
    bool packed = true;
    for (int m = 0; m < count; m++) packed = packed && (P[m] = el_model_packed(c->m, W[m])) != NULL;
    if (packed) {
        el_matmul_packed_n(&c->ops, P, Y, count, X, n);
        return;
    }
    for (int m = 0; m < count; m++) matmul(c, W[m], X, n, Y[m]);
}

/* ---- small vector operations -------------------------------------------- */

/* o (n,) = x (n,) / sqrt(mean(x^2) + eps) * w (n,) */
static void rmsnorm(float *o, const float *x, const float *w, int n, float eps)
{
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (double)(x[i] * x[i]);   /* float products, as llama.cpp */
    float scale = 1.0f / sqrtf((float)(ss / n) + eps);
    for (int i = 0; i < n; i++) o[i] = x[i] * scale * w[i];
}

/* Rotate the first n_rot dimensions of one head at position pos. The angles
 * are built the way ggml builds them, in float: theta_0 = pos * freq_scale,
 * theta_{i+1} = theta_i * base^(-2/n_rot), divided by rope_freqs[i] when
 * present. (An F16 cache rounds keys to 11 bits, so a different last float
 * bit here can move a key by one half-precision step.) */
/* cos and sin of every rotated pair at position pos (cs[2i], cs[2i+1]): the
 * same for every head of every layer, so computed once per token */
static void rope_table(float *cs, int pos, const el_hparams *hp, const float *freq_factors)
{
    int half = hp->n_rot / 2;
    float theta_scale = powf(hp->rope_base, -2.0f / (float)hp->n_rot);
    float theta = (float)pos;
    for (int i = 0; i < half; i++) {
        float ff = freq_factors ? freq_factors[i] : 1.0f;
        float t = hp->rope_freq_scale * (theta / ff);
        cs[2 * i] = cosf(t), cs[2 * i + 1] = sinf(t);
        theta *= theta_scale;
    }
}

static inline __attribute__((always_inline)) void rope_heads_body(float *h, int nh, int hd, const float *cst,
                                                                  const el_hparams *hp)
{
    int half = hp->n_rot / 2;
    bool neox = hp->rope_type == EL_ROPE_NEOX;
    for (int k = 0; k < nh; k++, h += hd)
        for (int i = 0; i < half; i++) {
            float cs = cst[2 * i], sn = cst[2 * i + 1];
            int a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
            float x0 = h[a], x1 = h[b];
            /* llama.cpp's compiled rotation fuses the first product of each */
            h[a] = fmaf(x0, cs, -(x1 * sn));
            h[b] = fmaf(x0, sn, x1 * cs);
        }
}
/* Rotate nh heads of hd floats. fmaf is a library call unless the compiler
 * may use the FMA instruction: the x86 copy is built for it (same results,
 * fmaf is one rounding either way). */
static void rope_heads(float *h, int nh, int hd, const float *cst, const el_hparams *hp)
{
    rope_heads_body(h, nh, hd, cst, hp);
}
#ifdef HAVE_F16C_PATH
static T_F16C void rope_heads_x86(float *h, int nh, int hd, const float *cst, const el_hparams *hp)
{
    rope_heads_body(h, nh, hd, cst, hp);
}
#endif

/* ---- attention ----------------------------------------------------------- */

typedef struct attn_job {
    el_context *c;
    int layer, n, pos;
} attn_job;

static float f16_round(float x) { return el_fp16_to_fp32(el_fp32_to_fp16(x)); }

/* One (token, head) pair per item: att (head_dim,) = softmax(q·K^T * scale) · V.
 * With an F16 cache the numbers meet as in llama.cpp: the query is rounded to
 * F16 for q·k, and the attention weights are rounded to F16 for the sum over V. */
/* items [item, item + G) of [item, e): this query head and the next ones of the
 * same position and KV head, at most gmax */
static int kv_group_len(int64_t item, int64_t e, int n_head, int group, int gmax)
{
    int i = (int)(item / n_head), kvh = (int)(item % n_head) / group, G = 1;
    while (G < gmax && item + G < e && (item + G) / n_head == i && (int)((item + G) % n_head) / group == kvh) G++;
    return G;
}

static void attention_items(void *arg, int64_t b, int64_t e, int ith)
{
    attn_job *j = arg;
    el_context *c = j->c;
    const el_hparams *hp = &c->m->hp;
    int hd = hp->head_dim, qd = hp->n_head * hd, kvd = hp->n_head_kv * hd, group = hp->n_head / hp->n_head_kv;
    bool f16 = c->kv_type == EL_TYPE_F16;
    float scale = 1.0f / sqrtf((float)hd);
    size_t layer_off = (size_t)j->layer * c->n_ctx * kvd;
    const float *kc = (const float *)c->k_cache + layer_off, *vc = (const float *)c->v_cache + layer_off;
    const uint16_t *kh = (const uint16_t *)c->k_cache + layer_off, *vh = (const uint16_t *)c->v_cache + layer_off;
    float *sc = c->scores + (size_t)ith * c->score_stride;
    float *qbuf = c->qh + (size_t)ith * hd * EL_FLASH_GMAX;
    for (int64_t item = b; item < e; item++) {
        int i = (int)(item / hp->n_head), h = (int)(item % hp->n_head), kvh = h / group;
        int p = j->pos + i;
        const float *q = c->q + (size_t)i * qd + (size_t)h * hd;
        float *o = c->att + (size_t)i * qd + (size_t)h * hd;
        /* prompt batches: F32 softmax on the queries as they are */
        if (f16 && c->flash && c->h.attendg && j->n >= EL_ATTN_TILE_MIN) {
            int G = kv_group_len(item, e, hp->n_head, group, c->h.gmax);
            const float *qg[EL_FLASH_GMAX];
            float *og[EL_FLASH_GMAX];
            for (int g = 0; g < G; g++) {
                qg[g] = c->q + (size_t)i * qd + (size_t)(h + g) * hd;
                og[g] = c->att + (size_t)i * qd + (size_t)(h + g) * hd;
            }
            c->h.attendg(qg, kh + (size_t)kvh * hd, vh + (size_t)kvh * hd, (size_t)kvd, p + 1, scale, sc, og, G);
            item += G - 1;
            continue;
        }
        if (f16 && c->flash && c->h.attend && j->n >= EL_ATTN_TILE_MIN) {
            c->h.attend(q, kh + (size_t)kvh * hd, vh + (size_t)kvh * hd, (size_t)kvd, p + 1, hd, scale, sc, o);
            continue;
        }
        if (f16 && c->flash && c->h.flashg && j->n < EL_ATTN_TILE_MIN) {
            int G = kv_group_len(item, e, hp->n_head, group, c->h.gmax);
            const float *qg[EL_FLASH_GMAX];
            float *og[EL_FLASH_GMAX];
            for (int g = 0; g < G; g++) {
                float *qb = qbuf + (size_t)g * hd;
                memcpy(qb, c->q + (size_t)i * qd + (size_t)(h + g) * hd, (size_t)hd * sizeof(float));
                c->h.round(qb, hd);
                qg[g] = qb;
                og[g] = c->att + (size_t)i * qd + (size_t)(h + g) * hd;
            }
            c->h.flashg(qg, kh + (size_t)kvh * hd, vh + (size_t)kvh * hd, (size_t)kvd, p + 1, scale, sc, og, G);
            item += G - 1;
            continue;
        }
        if (f16) {   /* from here on: the query rounded to F16, as llama.cpp does */
            memcpy(qbuf, q, (size_t)hd * sizeof(float));
            c->h.round(qbuf, hd);
            q = qbuf;
        }
        if (f16 && c->flash && c->h.flash1) {
            c->h.flash1(q, kh + (size_t)kvh * hd, vh + (size_t)kvh * hd, (size_t)kvd, p + 1, scale, sc, o);
            continue;
        }
        if (f16 && c->flash) {
            /* llama.cpp's CPU flash attention: online softmax, V accumulated in F16 */
            uint16_t *acc = (uint16_t *)sc;   /* hd halves of scratch, then the scores */
            float *qk = sc + hd;
            for (int d = 0; d < hd; d++) acc[d] = 0;
            /* every q.k first (independent of each other, so they overlap),
             * then the running softmax in order: the same numbers as one loop */
            for (int t = 0; t <= p; t++) qk[t] = c->h.dot(q, kh + (size_t)t * kvd + (size_t)kvh * hd, hd) * scale;
            float S = 0, M = -INFINITY;
            for (int t = 0; t <= p; t++) {
                size_t off = (size_t)t * kvd + (size_t)kvh * hd;
                float s = qk[t];
                float ms = 1.0f, vs = 1.0f;
                if (s > M) {
                    float Mold = M;
                    M = s;
                    ms = expf(Mold - M);
                    c->h.scale(acc, ms, hd);
                } else {
                    vs = expf(s - M);
                }
                c->h.mad(acc, vh + off, vs, hd);
                S = fmaf(S, ms, vs);   /* fused, as llama.cpp's compiled kernel */
            }
            float inv = 1.0f / S;
            for (int d = 0; d < hd; d++) o[d] = el_fp16_to_fp32(acc[d]) * inv;
            continue;
        }
        float mx = -INFINITY;
        for (int t = 0; t <= p; t++) {
            size_t off = (size_t)t * kvd + (size_t)kvh * hd;
            float s = 0;
            if (f16)
                s = c->h.dot(q, kh + off, hd);
            else
                s = ops_dot_f32(q, kc + off, hd);
            sc[t] = s * scale;
            if (sc[t] > mx) mx = sc[t];
        }
        double sum = 0;
        for (int t = 0; t <= p; t++) {
            sc[t] = expf(sc[t] - mx);
            sum += sc[t];
        }
        float inv = (float)(1.0 / sum);
        memset(o, 0, (size_t)hd * sizeof(float));
        for (int t = 0; t <= p; t++) {
            size_t off = (size_t)t * kvd + (size_t)kvh * hd;
            float w = sc[t] * inv;
            if (f16) {
                w = f16_round(w);
                for (int d = 0; d < hd; d++) o[d] += w * el_fp16_to_fp32(vh[off + d]);
            } else {
                for (int d = 0; d < hd; d++) o[d] += w * vc[off + d];
            }
        }
    }
}

/* ---- the pass -------------------------------------------------------------- */

/* Debugging aid: with EL_DUMP=<file>, el_decode writes its intermediate
 * tensors to <file> (opened once per process, every decode appended), named
 * after llama.cpp's graph ("attn_norm-0", "Qcur-0", "Kcur-0" after RoPE,
 * "attn_out-0" = attention output before Wo, "kqv_out-0" = after Wo (recent
 * llama.cpp swaps these two names), "ffn_inp", "ffn_norm", "ffn_gate",
 * "ffn_up", "ffn_gate_par" = SwiGLU, "ffn_out", "l_out"). Record: 64-byte
 * name, int32 type (0), op (0), ne0..ne3, then ne0*ne1 floats, ne0 fastest.
 * For comparing with a llama.cpp eval-callback dump of the same batch (see
 * docs/llama-arith.md). Not for concurrent decodes. */
static void dump_tensor(const char *name, int layer, const float *x, int ne0, int ne1)
{
    static FILE *f;
    static int state;   /* 0: not opened yet, 1: dumping, -1: off */
    if (state == 0) {
        const char *path = getenv("EL_DUMP");
        f = path && *path ? fopen(path, "wb") : NULL;
        state = f ? 1 : -1;
    }
    if (state < 0) return;
    char nm[64] = {0};
    if (layer >= 0)
        snprintf(nm, sizeof nm, "%s-%d", name, layer);
    else
        snprintf(nm, sizeof nm, "%s", name);
    int32_t hdr[6] = {0, 0, ne0, ne1, 1, 1};
    fwrite(nm, 1, sizeof nm, f);
    fwrite(hdr, sizeof hdr[0], 6, f);
    fwrite(x, sizeof *x, (size_t)ne0 * (size_t)ne1, f);
    fflush(f);
}

static int check_batch(el_context *c, const int32_t *tokens, int n, int pos, el_err *err)
{
    const el_hparams *hp = &c->m->hp;
    if (n <= 0) return el_errf(err, "empty batch");
    if (pos < 0 || pos > c->n_past)
        return el_errf(err, "batch starts at position %d, but the cache holds %d positions", pos, c->n_past);
    if ((int64_t)pos + n > c->n_ctx)
        return el_errf(err, "context full: %d + %d tokens exceed the context of %d tokens (use a larger -c)", pos, n,
                       c->n_ctx);
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= hp->n_vocab)
            return el_errf(err, "token %d at batch index %d is outside the vocabulary [0, %d)", tokens[i], i, hp->n_vocab);
    return 0;
}

static int decode1(el_context *c, int32_t token, int pos, el_err *err);

/* room for `rows` rows of logits */
static int grow_logits(el_context *c, int rows, el_err *err)
{
    if (rows <= c->logit_cap) return 0;
    uint64_t bytes = (uint64_t)rows * (uint64_t)c->m->hp.n_vocab * sizeof(float);
    if (el_mem_check(bytes, "the logits", err)) return -1;
    free(c->logits);
    c->logits = malloc((size_t)bytes);
    c->logit_cap = c->logits ? rows : 0;
    if (!c->logits) return el_errf(err, "out of memory for %d rows of logits", rows);
    return 0;
}

int el_decode(el_context *c, const int32_t *tokens, int n, int pos, bool all_logits, el_err *err)
{
    if (check_batch(c, tokens, n, pos, err)) return -1;
    if (n == 1 && c->rg) return decode1(c, tokens[0], pos, err);
    if (grow_scratch(c, n, err)) return -1;
    el_model *m = c->m;
    const el_hparams *hp = &m->hp;
    int d = hp->n_embd, hd = hp->head_dim, qd = hp->n_head * hd, kvd = hp->n_head_kv * hd, ff = hp->n_ff;
    const float *ffac = m->rope_freqs ? (const float *)m->rope_freqs->data : NULL;
    for (int i = 0; i < n; i++) rope_table(c->rope + (size_t)i * hp->n_rot, pos + i, hp, ffac);

    /* x (n, d) = embedding rows */
    size_t emb_row = el_row_size(m->tok_embd->type, d);
    const struct el_packed *pemb = el_model_packed(m, m->tok_embd);   /* tied output, packed */
    for (int i = 0; i < n; i++)
        if (pemb) el_packed_get_row(pemb, tokens[i], c->x + (size_t)i * d);
        else el_dequantize_row(m->tok_embd->type, (const uint8_t *)m->tok_embd->data + (size_t)tokens[i] * emb_row,
                          c->x + (size_t)i * d, d);

    /* the rows whose logits are kept; as in llama.cpp, the last layer's
     * feed-forward part runs on those rows only (so its products take the
     * single-row order when only the last row is wanted) */
    int first = all_logits ? 0 : n - 1, rows = n - first;
    for (int l = 0; l < hp->n_layer; l++) {
        const el_layer *L = &m->layers[l];
        for (int i = 0; i < n; i++)
            rmsnorm(c->xb + (size_t)i * d, c->x + (size_t)i * d, L->attn_norm->data, d, hp->rms_eps);
        dump_tensor("attn_norm", l, c->xb, d, n);
        /* q (n, qd), k, v (n, kvd) */
        matmul3(c, (const el_gguf_tensor *[]){L->wq, L->wk, L->wv}, (float *[]){c->q, c->k, c->v}, 3, c->xb, n);
        for (int i = 0; i < n; i++) {
            float *q = c->q + (size_t)i * qd, *k = c->k + (size_t)i * kvd, *v = c->v + (size_t)i * kvd;
            if (L->bq) {
                const float *bq = L->bq->data, *bk = L->bk->data, *bv = L->bv->data;
                for (int j = 0; j < qd; j++) q[j] += bq[j];
                for (int j = 0; j < kvd; j++) k[j] += bk[j], v[j] += bv[j];
            }
            const float *cst = c->rope + (size_t)i * hp->n_rot;
            c->rope_fn(q, hp->n_head, hd, cst, hp);
            c->rope_fn(k, hp->n_head_kv, hd, cst, hp);
            size_t at = ((size_t)l * c->n_ctx + (size_t)(pos + i)) * kvd;
            if (c->kv_type == EL_TYPE_F32) {
                memcpy((float *)c->k_cache + at, k, (size_t)kvd * sizeof(float));
                memcpy((float *)c->v_cache + at, v, (size_t)kvd * sizeof(float));
            } else {
                c->h.store((uint16_t *)c->k_cache + at, k, kvd);
                c->h.store((uint16_t *)c->v_cache + at, v, kvd);
            }
        }
        dump_tensor("Qcur", l, c->q, qd, n);
        dump_tensor("Kcur", l, c->k, kvd, n);
        dump_tensor("Vcur", l, c->v, kvd, n);
        attn_job aj = {c, l, n, pos};
        el_parallel_for(c->tp, (int64_t)n * hp->n_head, 0, attention_items, &aj);
        dump_tensor("attn_out", l, c->att, qd, n);
        /* x += att (n, qd) @ Wo^T */
        matmul(c, L->wo, c->att, n, c->xb);
        dump_tensor("kqv_out", l, c->xb, d, n);
        for (size_t i = 0; i < (size_t)n * d; i++) c->x[i] += c->xb[i];
        dump_tensor("ffn_inp", l, c->x, d, n);

        /* feed-forward on rows [r0, n) */
        int r0 = l == hp->n_layer - 1 ? first : 0, nr = n - r0;
        float *xr = c->x + (size_t)r0 * d;
        for (int i = 0; i < nr; i++)
            rmsnorm(c->xb + (size_t)i * d, xr + (size_t)i * d, L->ffn_norm->data, d, hp->rms_eps);
        dump_tensor("ffn_norm", l, c->xb, d, nr);
        matmul3(c, (const el_gguf_tensor *[]){L->w_gate, L->w_up}, (float *[]){c->hb, c->hb2}, 2, c->xb, nr);
        dump_tensor("ffn_gate", l, c->hb, ff, nr);
        dump_tensor("ffn_up", l, c->hb2, ff, nr);
        swiglu_rows(c->hb, c->hb2, nr, ff);
        dump_tensor("ffn_gate_par", l, c->hb, ff, nr);
        matmul(c, L->w_down, c->hb, nr, c->xb);
        dump_tensor("ffn_out", l, c->xb, d, nr);
        for (size_t i = 0; i < (size_t)nr * d; i++) xr[i] += c->xb[i];
        dump_tensor("l_out", l, xr, d, nr);
    }
    c->n_past = pos + n;

    /* logits for the rows asked for */
    if (grow_logits(c, rows, err)) return -1;
    for (int i = first; i < n; i++)
        rmsnorm(c->xb + (size_t)(i - first) * d, c->x + (size_t)i * d, m->output_norm->data, d, hp->rms_eps);
    matmul(c, m->output, c->xb, rows, c->logits);
    c->logit_first = first;
    c->logit_rows = rows;
    return 0;
}

/* ---- one token in one pass of the pool -------------------------------------
 *
 * Decode hands the pool a job per matrix product (5 per layer), and each
 * hand-off costs a chain of cache misses between cores: where the two cores
 * sit far apart (round trip 0.2-0.5 us here) that cost is as large as a small
 * product's own memory time. Here every thread runs the whole token itself:
 * the small vector steps (norms, quantising activations, residuals, SwiGLU)
 * are done by every thread on its own copy, products and attention heads are
 * shared out, and a barrier marks each point where one thread's results are
 * needed by another (6 per layer). Each number is computed by the same code
 * on the same inputs as el_decode's general path, so the logits are the same
 * bit for bit (tests/test_golden.c compares them). Used when there are 2+
 * threads and every matrix is packed with one activation format per call. */

typedef struct region_thread {
    float *x, *xb, *hb;          /* own copies: residual, normed row, SwiGLU output */
    uint8_t *act_d, *act_ff;     /* own quantised activations of length n_embd / n_ff */
    /* the start of this thread's share of the next product, to be warmed
     * into the cache while the thread waits at a barrier (region_barrier) */
    const uint8_t *warm_p[3];
    size_t warm_n[3], warm_off, warm_done;
    int warm_ns, warm_i;
} region_thread;

/* Bytes of its next share a waiting thread reads ahead: a small part of a
 * 1-2 MiB L2, so it is still there when the product starts. */
#define REGION_WARM_BYTES ((size_t)256 << 10)

/* Most bytes of weights a thread claims at once in region_product. A share
 * is claimed in quarters, but a quarter of a big matrix's share (the 1B's
 * output head: 27 MiB) left the other thread waiting at the barrier for up
 * to a quarter of the product; smaller pieces let it steal. Paired in one
 * process on Llama-3.2-1B: 256 KiB 2.5% faster per token than quarters,
 * 64 KiB slower again (more hand-overs), 1 MiB in between. */
#define REGION_CHUNK_BYTES ((size_t)256 << 10)

struct region {
    el_context *c;
    int nth, ncall;
    region_thread *t;
    /* [ncall][nth] groups claimed so far of each thread's share of each
     * product of the token, one cache line each (see region_product) */
    struct region_ctr { _Alignas(64) _Atomic int64_t n; } *ctr;
    _Alignas(64) _Atomic int bar;
    int32_t token;
    int pos;
};

static void region_free(struct region *r)
{
    if (!r) return;
    for (int i = 0; r->t && i < r->nth; i++) free(r->t[i].x), free(r->t[i].xb), free(r->t[i].hb), free(r->t[i].act_d), free(r->t[i].act_ff);
    free(r->t);
    free(r->ctr);
    free(r);
}

static bool same_act_format(const struct el_packed *a, const struct el_packed *b)
{
    return a && b && el_packed_act_kind(a) == el_packed_act_kind(b);
}

static struct region *region_new(el_context *c)
{
    const el_model *m = c->m;
    const el_hparams *hp = &m->hp;
    int nth = el_threads_count(c->tp);
    const char *env = getenv("EL_DECODE_REGION");
    if (nth < 2 || (env && !strcmp(env, "0")) || getenv("EL_DUMP")) return NULL;
    size_t act_d = 0, act_ff = 0;
    for (int l = 0; l < hp->n_layer; l++) {
        const el_layer *L = &m->layers[l];
        const struct el_packed *q = el_model_packed(m, L->wq), *k = el_model_packed(m, L->wk), *v = el_model_packed(m, L->wv);
        const struct el_packed *o = el_model_packed(m, L->wo), *g = el_model_packed(m, L->w_gate);
        const struct el_packed *u = el_model_packed(m, L->w_up), *dn = el_model_packed(m, L->w_down);
        if (!q || !k || !v || !o || !g || !u || !dn || L->wq->ne[0] != hp->n_embd || L->wo->ne[0] != (int64_t)hp->n_head * hp->head_dim)
            return NULL;
        if (!same_act_format(q, k) || !same_act_format(q, v) || !same_act_format(g, u)) return NULL;
        size_t a[3] = {el_packed_act_row_bytes(q), el_packed_act_row_bytes(o), el_packed_act_row_bytes(g)};
        for (int i = 0; i < 3; i++) act_d = a[i] > act_d ? a[i] : act_d;
        act_ff = el_packed_act_row_bytes(dn) > act_ff ? el_packed_act_row_bytes(dn) : act_ff;
    }
    const struct el_packed *out = el_model_packed(m, m->output);
    if (!out || !hp->n_layer) return NULL;
    act_d = el_packed_act_row_bytes(out) > act_d ? el_packed_act_row_bytes(out) : act_d;
    struct region *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->c = c;
    r->nth = nth;
    r->ncall = 4 * hp->n_layer + 1;
    r->t = calloc((size_t)nth, sizeof *r->t);
    r->ctr = aligned_alloc(64, (size_t)r->ncall * (size_t)nth * sizeof *r->ctr);
    bool ok = r->t && r->ctr;
    for (int i = 0; ok && i < nth; i++) {
        region_thread *t = &r->t[i];
        t->x = malloc((size_t)hp->n_embd * sizeof(float));
        t->xb = malloc((size_t)hp->n_embd * sizeof(float));
        t->hb = malloc((size_t)hp->n_ff * sizeof(float));
        t->act_d = malloc(act_d);
        t->act_ff = malloc(act_ff ? act_ff : 64);
        ok = t->x && t->xb && t->hb && t->act_d && t->act_ff;
    }
    if (!ok) {
        region_free(r);
        return NULL;
    }
    return r;
}

/* groups [*b, *e) of total that thread ith of nth owns in every product */
static void region_share(int64_t total, int ith, int nth, int64_t *b, int64_t *e)
{
    *b = total * ith / nth;
    *e = total * (ith + 1) / nth;
}

/* what thread ith will read of P[0..count) as its own share: warmed by region_barrier */
static void region_warm_set(region_thread *t, const struct el_packed *const *P, int count, int ith, int nth)
{
    int64_t gs[4] = {0}, b, e;
    for (int m = 0; m < count; m++) gs[m + 1] = gs[m] + P[m]->groups;
    region_share(gs[count], ith, nth, &b, &e);
    t->warm_ns = t->warm_i = 0;
    t->warm_off = t->warm_done = 0;
    for (int m = 0; m < count; m++) {
        int64_t lo = b > gs[m] ? b : gs[m], hi = e < gs[m + 1] ? e : gs[m + 1];
        if (lo >= hi) continue;
        t->warm_p[t->warm_ns] = P[m]->data + (size_t)(lo - gs[m]) * P[m]->group_bytes;
        t->warm_n[t->warm_ns++] = (size_t)(hi - lo) * P[m]->group_bytes;
    }
}

/* two more cache lines of the next share; false once REGION_WARM_BYTES are asked for */
static bool region_warm_step(region_thread *t)
{
    for (int k = 0; k < 2; k++) {
        if (t->warm_done >= REGION_WARM_BYTES || t->warm_i >= t->warm_ns) return false;
        __builtin_prefetch(t->warm_p[t->warm_i] + t->warm_off, 0, 3);
        t->warm_off += 64, t->warm_done += 64;
        if (t->warm_off >= t->warm_n[t->warm_i]) t->warm_i++, t->warm_off = 0;
    }
    return true;
}

/* Every thread waits here until all have arrived (k: this thread's count of
 * barriers). Waiting, it reads ahead the start of its next share (t; NULL:
 * nothing to read): the hardware prefetcher has to find every new stream
 * again after the pause, and the memory bus would otherwise idle. Measured
 * 3-5% per token on SmolLM2 where the cores sit far apart. */
static void region_barrier(struct region *r, region_thread *t, int *k)
{
    int target = ++*k * r->nth;
    atomic_fetch_add_explicit(&r->bar, 1, memory_order_acq_rel);
    for (long spin = 1; atomic_load_explicit(&r->bar, memory_order_acquire) < target; spin++) {
        if (t && region_warm_step(t)) continue;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
        if ((spin & 1023) == 0) sched_yield();   /* more threads than cores */
    }
}

/* Y[m] = act . P[m] for count matrices read as one run of row groups.
 * Every thread owns an equal share of the groups, the same every token, and
 * reads it front to back in chunks (quarters, at most REGION_CHUNK_BYTES)
 * claimed from its own counter (a cache line no other thread touches while
 * all keep pace); a thread done with its share claims chunks left in the
 * others'. Shared counters, claimed chunk by
 * chunk by every thread, cost a cache-line hand-over between cores per chunk
 * and cut each thread's reading into pieces: 5-10% of a decode step here.
 * Stealing keeps cores of unequal speed (or more threads than cores) from
 * waiting on the slowest. */
static void region_product(struct region *r, const struct el_packed *const *P, float *const *Y, int count,
                           const uint8_t *act, int call, int ith)
{
    int64_t gs[4] = {0};
    for (int m = 0; m < count; m++) gs[m + 1] = gs[m] + P[m]->groups;
    int64_t total = gs[count];
    int nth = r->nth;
    size_t arow = el_packed_act_row_bytes(P[0]);
    for (int v = 0; v < nth; v++) {
        int owner = (ith + v) % nth;
        int64_t b0, e0;
        region_share(total, owner, nth, &b0, &e0);
        int64_t chunk = (e0 - b0 + 3) / 4, cap = (int64_t)(REGION_CHUNK_BYTES / P[0]->group_bytes);
        if (chunk > cap) chunk = cap > 1 ? cap : 1;
        _Atomic int64_t *ctr = &r->ctr[(size_t)call * nth + owner].n;
        if (chunk < 1) continue;
        for (;;) {
            int64_t b = b0 + atomic_fetch_add_explicit(ctr, chunk, memory_order_relaxed);
            if (b >= e0) break;
            int64_t e = b + chunk < e0 ? b + chunk : e0;
            for (int m = 0; m < count; m++) {
                int64_t lo = b > gs[m] ? b : gs[m], hi = e < gs[m + 1] ? e : gs[m + 1];
                if (lo < hi) el_packed_kernel(P[m], lo - gs[m], hi - gs[m], act, arow, 1, Y[m], (size_t)P[m]->out);
            }
        }
    }
}

/* Ask for the K and V rows of positions [0, pos) of KV heads [k0, k1) of
 * layer l, which this thread attends after the layer's first product: the
 * weight stream has pushed them out of every cache since the token before,
 * and attention alone would fetch them one miss at a time. Fetched while
 * the q, k, v product streams instead (into L2, which the product's share
 * passes through but does not fill). Paired in one process on SmolLM2,
 * tg128: attention 30-40% faster, the token 2% faster. At long contexts
 * only the first REGION_KV_BYTES are asked for: more would not stay in L2. */
#define REGION_KV_BYTES ((size_t)512 << 10)
static void region_prefetch_kv(const el_context *c, int l, int pos, int k0, int k1)
{
    const el_hparams *hp = &c->m->hp;
    size_t es = c->kv_type == EL_TYPE_F32 ? 4 : 2, kvd = (size_t)hp->n_head_kv * hp->head_dim;
    size_t row = kvd * es, lo = (size_t)k0 * hp->head_dim * es, hi = (size_t)k1 * hp->head_dim * es;
    const char *kb = (const char *)c->k_cache + (size_t)l * c->n_ctx * row;
    const char *vb = (const char *)c->v_cache + (size_t)l * c->n_ctx * row;
    size_t np = hi > lo ? REGION_KV_BYTES / (2 * (hi - lo)) : 0;
    if (np > (size_t)pos) np = (size_t)pos;
    for (size_t p = 0; p < np; p++)
        for (size_t o = lo & ~(size_t)63; o < hi; o += 64) {
            __builtin_prefetch(kb + p * row + o, 0, 2);
            __builtin_prefetch(vb + p * row + o, 0, 2);
        }
}

/* x quantised for P, the product shared out, then wait for every thread's
 * rows, reading ahead this thread's share of Pn[0..nn), the next product */
static void region_step(struct region *r, const struct el_packed *const *P, float *const *Y, int count,
                        const float *x, uint8_t *act, int ith, int *call, int *nb, const struct el_packed *const *Pn,
                        int nn)
{
    el_packed_quantize_act(P[0], x, act);
    region_product(r, P, Y, count, act, (*call)++, ith);
    region_thread *t = &r->t[ith];
    region_warm_set(t, Pn, nn, ith, r->nth);
    region_barrier(r, t, nb);
}

static void region_task(void *arg, int ith, int nth)
{
    struct region *r = arg;
    el_context *c = r->c;
    el_model *m = c->m;
    const el_hparams *hp = &m->hp;
    region_thread *t = &r->t[ith];
    int d = hp->n_embd, hd = hp->head_dim, kvd = hp->n_head_kv * hd, ff = hp->n_ff, pos = r->pos;
    int nb = 0, call = 0;
    const float *cst = c->rope;
    /* the rows of the heads and KV heads this thread rotates and attends */
    int h0 = hp->n_head * ith / nth, h1 = hp->n_head * (ith + 1) / nth;
    int k0 = hp->n_head_kv * ith / nth, k1 = hp->n_head_kv * (ith + 1) / nth;
    /* the KV heads those query heads read */
    int group = hp->n_head / hp->n_head_kv, ka = h0 / group, kb = h1 > h0 ? (h1 - 1) / group + 1 : ka;

    const struct el_packed *pemb = el_model_packed(m, m->tok_embd);
    if (pemb) el_packed_get_row(pemb, r->token, t->x);
    else el_dequantize_row(m->tok_embd->type, (const uint8_t *)m->tok_embd->data + (size_t)r->token * el_row_size(m->tok_embd->type, d), t->x, d);
    for (int l = 0; l < hp->n_layer; l++) {
        const el_layer *L = &m->layers[l];
        const struct el_packed *P3[3] = {el_model_packed(m, L->wq), el_model_packed(m, L->wk), el_model_packed(m, L->wv)};
        const struct el_packed *Po = el_model_packed(m, L->wo), *Pd = el_model_packed(m, L->w_down);
        const struct el_packed *P2[2] = {el_model_packed(m, L->w_gate), el_model_packed(m, L->w_up)};
        const el_layer *Ln = l + 1 < hp->n_layer ? &m->layers[l + 1] : NULL;
        const struct el_packed *Pn[3] = {el_model_packed(m, Ln ? Ln->wq : m->output), Ln ? el_model_packed(m, Ln->wk) : NULL,
                                         Ln ? el_model_packed(m, Ln->wv) : NULL};
        region_prefetch_kv(c, l, pos, ka, kb);
        rmsnorm(t->xb, t->x, L->attn_norm->data, d, hp->rms_eps);
        region_step(r, P3, (float *const[]){c->q, c->k, c->v}, 3, t->xb, t->act_d, ith, &call, &nb, &Po, 1);
        /* this thread's query heads and KV heads: biases, RoPE, the cache */
        if (L->bq) {
            const float *bq = L->bq->data, *bk = L->bk->data, *bv = L->bv->data;
            for (int j = h0 * hd; j < h1 * hd; j++) c->q[j] += bq[j];
            for (int j = k0 * hd; j < k1 * hd; j++) c->k[j] += bk[j], c->v[j] += bv[j];
        }
        c->rope_fn(c->q + (size_t)h0 * hd, h1 - h0, hd, cst, hp);
        c->rope_fn(c->k + (size_t)k0 * hd, k1 - k0, hd, cst, hp);
        size_t at = ((size_t)l * c->n_ctx + (size_t)pos) * kvd + (size_t)k0 * hd, nk = (size_t)(k1 - k0) * hd;
        if (c->kv_type == EL_TYPE_F32) {
            memcpy((float *)c->k_cache + at, c->k + (size_t)k0 * hd, nk * sizeof(float));
            memcpy((float *)c->v_cache + at, c->v + (size_t)k0 * hd, nk * sizeof(float));
        } else if (nk) {
            c->h.store((uint16_t *)c->k_cache + at, c->k + (size_t)k0 * hd, (int)nk);
            c->h.store((uint16_t *)c->v_cache + at, c->v + (size_t)k0 * hd, (int)nk);
        }
        region_barrier(r, t, &nb);
        attn_job aj = {c, l, 1, pos};
        if (h1 > h0) attention_items(&aj, h0, h1, ith);
        region_barrier(r, t, &nb);
        region_step(r, &Po, (float *const[]){c->xb}, 1, c->att, t->act_d, ith, &call, &nb, P2, 2);
        for (int i = 0; i < d; i++) t->x[i] += c->xb[i];
        rmsnorm(t->xb, t->x, L->ffn_norm->data, d, hp->rms_eps);
        region_step(r, P2, (float *const[]){c->hb, c->hb2}, 2, t->xb, t->act_d, ith, &call, &nb, &Pd, 1);
        memcpy(t->hb, c->hb, (size_t)ff * sizeof(float));
        swiglu_rows(t->hb, c->hb2, 1, ff);
        /* c->xb is free again: every thread has added the output product to its x */
        region_step(r, &Pd, (float *const[]){c->xb}, 1, t->hb, t->act_ff, ith, &call, &nb, Pn, Ln ? 3 : 1);
        for (int i = 0; i < d; i++) t->x[i] += c->xb[i];
    }
    rmsnorm(t->xb, t->x, m->output_norm->data, d, hp->rms_eps);
    const struct el_packed *Ph = el_model_packed(m, m->output);
    el_packed_quantize_act(Ph, t->xb, t->act_d);
    region_product(r, &Ph, (float *const[]){c->logits}, 1, t->act_d, call++, ith);
    if (ith == 0) memcpy(c->x, t->x, (size_t)d * sizeof(float));
}

static int decode1(el_context *c, int32_t token, int pos, el_err *err)
{
    if (grow_scratch(c, 1, err)) return -1;
    const el_hparams *hp = &c->m->hp;
    if (grow_logits(c, 1, err)) return -1;
    const float *ffac = c->m->rope_freqs ? (const float *)c->m->rope_freqs->data : NULL;
    rope_table(c->rope, pos, hp, ffac);
    struct region *r = c->rg;
    for (int i = 0; i < r->ncall * r->nth; i++) atomic_store_explicit(&r->ctr[i].n, 0, memory_order_relaxed);
    atomic_store(&r->bar, 0);
    r->token = token;
    r->pos = pos;
    el_threads_run(c->tp, region_task, r);
    c->n_past = pos + 1;
    c->logit_first = 0;
    c->logit_rows = 1;
    return 0;
}
