/* fdot.c -- float dot-product kernels for F32 / F16 / BF16 weights (see fdot.h).
 *
 * Every kernel reads one weight row once for up to 4 activation rows (the row
 * count is a compile-time constant in each instantiated body, so the
 * accumulators stay in registers) and gives each activation row the same
 * arithmetic whatever the row count: a row's result does not depend on how
 * the batch was grouped. The scalar kernel is the reference and reproduces
 * the dequantise-then-ops_dot_f32 path bit for bit (same 8 partial sums, same
 * final pairing). */
#include "fdot.h"

#include <stdlib.h>
#include <string.h>

#include "edgelm/threads.h"

#define XROW(x, st, r) ((const void *)((const uint8_t *)(x) + (size_t)(r) * (st)))
#define FTILE_NW EL_FDOT_TILE_NW

/* ---- scalar reference ------------------------------------------------------ */

static inline float sld_f32(const uint8_t *p)
{
    float v;
    memcpy(&v, p, 4);
    return v;
}
static inline float sld_f16(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, 2);
    return el_fp16_to_fp32(h);
}
static inline float sld_bf16(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, 2);
    return el_bf16_to_fp32(h);
}

/* Weights are widened CH elements at a time into buf (once for all rows);
 * each row keeps ops_dot_f32's 8 partial sums over the whole row: element i
 * goes to sum i % 8, except the last n % 8 which go to sum 0. */
#define SCALAR_KERNEL(NAME, LD, ESZ)                                                                  \
    static void NAME(int64_t n, const void *w, const void *x, size_t st, int nr, float *out)           \
    {                                                                                                \
        enum { CH = 256 };                                                                           \
        const uint8_t *wp = w;                                                                       \
        float buf[CH], acc[4][8] = {{0}};                                                            \
        int64_t full = n - n % 8;                                                                    \
        for (int64_t c = 0; c < n; c += CH) {                                                        \
            int len = n - c < CH ? (int)(n - c) : CH;                                                \
            for (int j = 0; j < len; j++) buf[j] = LD(wp + (size_t)(c + j) * ESZ);                   \
            for (int r = 0; r < nr; r++) {                                                           \
                const float *xr = (const float *)XROW(x, st, r) + c;                                 \
                int j = 0;                                                                           \
                for (; j + 8 <= len && c + j + 8 <= full; j += 8)                                    \
                    for (int k = 0; k < 8; k++) acc[r][k] += xr[j + k] * buf[j + k];                  \
                for (; j < len; j++) acc[r][0] += xr[j] * buf[j];                                     \
            }                                                                                        \
        }                                                                                            \
        for (int r = 0; r < nr; r++) {                                                               \
            const float *a = acc[r];                                                                 \
            out[r] = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));               \
        }                                                                                            \
    }

SCALAR_KERNEL(f32_scalar, sld_f32, 4)
SCALAR_KERNEL(f16_scalar, sld_f16, 2)
SCALAR_KERNEL(bf16_scalar, sld_bf16, 2)

static void round_bf16_scalar(const float *x, uint16_t *dst, int64_t n)
{
    for (int64_t i = 0; i < n; i++) dst[i] = el_fp32_to_bf16(x[i]);
}

/* Instantiate NAME##_body for 1..4 rows. */
#define FDOT_DISPATCH(NAME, TGT)                                                                      \
    static TGT void NAME(int64_t n, const void *w, const void *x, size_t st, int nr, float *out)       \
    {                                                                                                \
        switch (nr) {                                                                                \
        case 1: NAME##_body(n, w, x, st, out, 1); break;                                             \
        case 2: NAME##_body(n, w, x, st, out, 2); break;                                             \
        case 3: NAME##_body(n, w, x, st, out, 3); break;                                             \
        default: NAME##_body(n, w, x, st, out, 4); break;                                            \
        }                                                                                            \
    }

#define ALWAYS static inline __attribute__((always_inline))

/* ---- x86: AVX2 + FMA + F16C, and AVX-512 ------------------------------------ */

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define T_AVX2 __attribute__((target("avx2,fma,f16c")))
#define T_AVX512 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl")))
#define T_AVX512BF16 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512bf16")))

ALWAYS T_AVX2 float hsum8(__m256 v)
{
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}

ALWAYS T_AVX512 float hsum16(__m512 v)
{
    __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    return hsum8(_mm256_add_ps(_mm512_castps512_ps256(v), hi));
}

/* 8 weights from p as floats (exact) */
ALWAYS T_AVX2 __m256 w8_f32(const uint8_t *p) { return _mm256_loadu_ps((const float *)p); }
ALWAYS T_AVX2 __m256 w8_f16(const uint8_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }
ALWAYS T_AVX2 __m256 w8_bf16(const uint8_t *p)
{
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
}

/* 16 weights per step in two accumulators per row (8 + 2 registers at 4
 * rows), then 8, then the last 1..7 from zero-padded copies. */
#define FDOT_AVX2(NAME, W8, ESZ)                                                                      \
    ALWAYS T_AVX2 void NAME##_body(int64_t n, const void *w, const void *x, size_t st, float *out, const int NR) \
    {                                                                                                \
        const uint8_t *wp = w;                                                                       \
        const float *xr[4];                                                                          \
        __m256 acc[4][2];                                                                            \
        _Pragma("GCC unroll 4") for (int r = 0; r < NR; r++) {                                       \
            xr[r] = XROW(x, st, r);                                                                  \
            acc[r][0] = acc[r][1] = _mm256_setzero_ps();                                             \
        }                                                                                            \
        int64_t i = 0;                                                                               \
        for (; i + 16 <= n; i += 16) {                                                               \
            __m256 w0 = W8(wp + ESZ * i), w1 = W8(wp + ESZ * (i + 8));                               \
            _Pragma("GCC unroll 4") for (int r = 0; r < NR; r++) {                                   \
                acc[r][0] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xr[r] + i), acc[r][0]);              \
                acc[r][1] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(xr[r] + i + 8), acc[r][1]);          \
            }                                                                                        \
        }                                                                                            \
        if (i + 8 <= n) {                                                                            \
            __m256 w0 = W8(wp + ESZ * i);                                                            \
            _Pragma("GCC unroll 4") for (int r = 0; r < NR; r++)                                     \
                acc[r][0] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xr[r] + i), acc[r][0]);              \
            i += 8;                                                                                  \
        }                                                                                            \
        if (i < n) {                                                                                 \
            size_t rem = (size_t)(n - i);                                                            \
            uint8_t wt[32] = {0};                                                                    \
            memcpy(wt, wp + ESZ * i, rem * ESZ);                                                     \
            __m256 w0 = W8(wt);                                                                      \
            _Pragma("GCC unroll 4") for (int r = 0; r < NR; r++) {                                   \
                float xt[8] = {0};                                                                   \
                memcpy(xt, xr[r] + i, rem * sizeof(float));                                          \
                acc[r][1] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xt), acc[r][1]);                     \
            }                                                                                        \
        }                                                                                            \
        _Pragma("GCC unroll 4") for (int r = 0; r < NR; r++) out[r] = hsum8(_mm256_add_ps(acc[r][0], acc[r][1])); \
    }                                                                                                \
    FDOT_DISPATCH(NAME, T_AVX2)

FDOT_AVX2(f32_avx2, w8_f32, 4)
FDOT_AVX2(f16_avx2, w8_f16, 2)
FDOT_AVX2(bf16_avx2, w8_bf16, 2)

/* AVX-512: 16 weights per register, masked loads for the tail (avx512bw for
 * the 16-bit ones). */
ALWAYS T_AVX512 __m512 w16_f32(const uint8_t *p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
ALWAYS T_AVX512 __m512 w16_f16(const uint8_t *p, __mmask16 m) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p)); }
ALWAYS T_AVX512 __m512 w16_bf16(const uint8_t *p, __mmask16 m)
{
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p)), 16));
}

/* NW weight rows x NR activation rows at once (NW = 1 is the one-row
 * kernel): one accumulator per product, the blocks of 16 added in order, the
 * masked tail last, then the horizontal sum. Every product is summed the same
 * way whatever NW and NR, so the results do not depend on the tiling (prompt
 * batches against decode). Each activation load serves NW rows; with one
 * accumulator per product a 4 x 4 tile runs at the FMA peak (3.35 zmm FMA/ns
 * on one core here, where 3 x 4 with two accumulators each reached 2.9).
 * out[q * 4 + r]. */
#define FTILE_AVX512(NAME, W16, ESZ)                                                                  \
    ALWAYS T_AVX512 void NAME##_tbody(int64_t n, const void *w, size_t ws, const void *x, size_t st, float *out, \
                                      const int NW, const int NR)                                   \
    {                                                                                                \
        const uint8_t *wr[FTILE_NW];                                                                 \
        const float *xr[4];                                                                          \
        __m512 acc[FTILE_NW][4];                                                                     \
        const __mmask16 all = 0xffff;                                                                \
        _Pragma("GCC unroll 4") for (int q = 0; q < NW; q++) {                                       \
            wr[q] = (const uint8_t *)w + (size_t)q * ws;                                             \
            _Pragma("GCC unroll 4") for (int r = 0; r < NR; r++) acc[q][r] = _mm512_setzero_ps();    \
        }                                                                                            \
        _Pragma("GCC unroll 4") for (int r = 0; r < NR; r++) xr[r] = XROW(x, st, r);                 \
        int64_t i = 0;                                                                               \
        for (; i + 16 <= n; i += 16) {                                                               \
            __m512 wv[FTILE_NW];                                                                     \
            _Pragma("GCC unroll 4") for (int q = 0; q < NW; q++) wv[q] = W16(wr[q] + ESZ * i, all);  \
            _Pragma("GCC unroll 4") for (int r = 0; r < NR; r++) {                                   \
                __m512 xv = _mm512_loadu_ps(xr[r] + i);                                              \
                /* in registers: folded into each FMA, the load is repeated for every row */         \
                __asm__("" : "+v"(xv));                                                              \
                _Pragma("GCC unroll 4") for (int q = 0; q < NW; q++) acc[q][r] = _mm512_fmadd_ps(wv[q], xv, acc[q][r]); \
            }                                                                                        \
        }                                                                                            \
        if (i < n) {                                                                                 \
            __mmask16 m = (__mmask16)((1u << (n - i)) - 1);                                          \
            _Pragma("GCC unroll 4") for (int q = 0; q < NW; q++) {                                   \
                __m512 w0 = W16(wr[q] + ESZ * i, m);                                                 \
                _Pragma("GCC unroll 4") for (int r = 0; r < NR; r++)                                 \
                    acc[q][r] = _mm512_fmadd_ps(w0, _mm512_maskz_loadu_ps(m, xr[r] + i), acc[q][r]); \
            }                                                                                        \
        }                                                                                            \
        _Pragma("GCC unroll 4") for (int q = 0; q < NW; q++)                                         \
            _Pragma("GCC unroll 4") for (int r = 0; r < NR; r++) out[q * 4 + r] = hsum16(acc[q][r]); \
    }                                                                                                \
    ALWAYS T_AVX512 void NAME##_body(int64_t n, const void *w, const void *x, size_t st, float *out, const int NR) \
    {                                                                                                \
        NAME##_tbody(n, w, 0, x, st, out, 1, NR);                                                    \
    }                                                                                                \
    FDOT_DISPATCH(NAME, T_AVX512)                                                                    \
    static T_AVX512 void NAME##_tile(int64_t n, const void *w, size_t ws, int nw, const void *x, size_t st, int nr, \
                                     float *out)                                                     \
    {                                                                                                \
        switch (nw * 8 + (nr < 1 ? 1 : nr > 4 ? 4 : nr)) {                                           \
        case 9: NAME##_tbody(n, w, ws, x, st, out, 1, 1); return;                                    \
        case 10: NAME##_tbody(n, w, ws, x, st, out, 1, 2); return;                                   \
        case 11: NAME##_tbody(n, w, ws, x, st, out, 1, 3); return;                                   \
        case 12: NAME##_tbody(n, w, ws, x, st, out, 1, 4); return;                                   \
        case 17: NAME##_tbody(n, w, ws, x, st, out, 2, 1); return;                                   \
        case 18: NAME##_tbody(n, w, ws, x, st, out, 2, 2); return;                                   \
        case 19: NAME##_tbody(n, w, ws, x, st, out, 2, 3); return;                                   \
        case 20: NAME##_tbody(n, w, ws, x, st, out, 2, 4); return;                                   \
        case 25: NAME##_tbody(n, w, ws, x, st, out, 3, 1); return;                                   \
        case 26: NAME##_tbody(n, w, ws, x, st, out, 3, 2); return;                                   \
        case 27: NAME##_tbody(n, w, ws, x, st, out, 3, 3); return;                                   \
        case 28: NAME##_tbody(n, w, ws, x, st, out, 3, 4); return;                                   \
        case 33: NAME##_tbody(n, w, ws, x, st, out, 4, 1); return;                                   \
        case 34: NAME##_tbody(n, w, ws, x, st, out, 4, 2); return;                                   \
        case 35: NAME##_tbody(n, w, ws, x, st, out, 4, 3); return;                                   \
        case 36: NAME##_tbody(n, w, ws, x, st, out, 4, 4); return;                                   \
        }                                                                                            \
        for (int q = 0; q < nw; q++) NAME((n), (const uint8_t *)w + (size_t)q * ws, x, st, nr, out + 4 * q); \
    }
_Static_assert(FTILE_NW == 4, "the tile dispatch above is written for 4 rows");

FTILE_AVX512(f32_avx512, w16_f32, 4)
FTILE_AVX512(f16_avx512, w16_f16, 2)
FTILE_AVX512(bf16_avx512, w16_bf16, 2)


/* BF16 weights x BF16 activations by vdpbf16ps: 32 products per instruction,
 * summed in pairs into 16 F32 lanes. */
ALWAYS T_AVX512BF16 void bf16dot_avx512_body(int64_t n, const void *w, const void *x, size_t st, float *out, const int NR)
{
    const uint16_t *wp = w;
    const uint16_t *xr[4];
    __m512 acc[4][2];
    _Pragma("GCC unroll 4") for (int r = 0; r < NR; r++) {
        xr[r] = XROW(x, st, r);
        acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    }
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512bh w0 = (__m512bh)_mm512_loadu_si512(wp + i), w1 = (__m512bh)_mm512_loadu_si512(wp + i + 32);
        _Pragma("GCC unroll 4") for (int r = 0; r < NR; r++) {
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], w0, (__m512bh)_mm512_loadu_si512(xr[r] + i));
            acc[r][1] = _mm512_dpbf16_ps(acc[r][1], w1, (__m512bh)_mm512_loadu_si512(xr[r] + i + 32));
        }
    }
    if (i + 32 <= n) {
        __m512bh w0 = (__m512bh)_mm512_loadu_si512(wp + i);
        _Pragma("GCC unroll 4") for (int r = 0; r < NR; r++)
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], w0, (__m512bh)_mm512_loadu_si512(xr[r] + i));
        i += 32;
    }
    if (i < n) {
        __mmask32 m = (__mmask32)((1u << (n - i)) - 1);
        __m512bh w0 = (__m512bh)_mm512_maskz_loadu_epi16(m, wp + i);
        _Pragma("GCC unroll 4") for (int r = 0; r < NR; r++)
            acc[r][1] = _mm512_dpbf16_ps(acc[r][1], w0, (__m512bh)_mm512_maskz_loadu_epi16(m, xr[r] + i));
    }
    _Pragma("GCC unroll 4") for (int r = 0; r < NR; r++) {
        __m512 s = _mm512_add_ps(acc[r][0], acc[r][1]);
        out[r] = hsum16(s);
    }
}
FDOT_DISPATCH(bf16dot_avx512, T_AVX512BF16)

static T_AVX512BF16 void round_bf16_avx512(const float *x, uint16_t *dst, int64_t n)
{
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512bh b = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(x + i));
        _mm512_storeu_si512(dst + i, (__m512i)b);
    }
    round_bf16_scalar(x + i, dst + i, n - i);
}

#define HAVE_X86_FDOT 1
#endif

/* ---- ARM: NEON (F16 widened by fcvtl, BF16 by shll) --------------------------- */

#if defined(__aarch64__) && defined(__GNUC__)
#include <arm_neon.h>

/* 8 weights from p as two float32x4 (exact) */
ALWAYS void w8n_f32(const uint8_t *p, float32x4_t *a, float32x4_t *b)
{
    *a = vld1q_f32((const float *)p);
    *b = vld1q_f32((const float *)p + 4);
}
ALWAYS void w8n_f16(const uint8_t *p, float32x4_t *a, float32x4_t *b)
{
    float16x8_t h = vreinterpretq_f16_u16(vld1q_u16((const uint16_t *)p));
    *a = vcvt_f32_f16(vget_low_f16(h));
    *b = vcvt_high_f32_f16(h);
}
ALWAYS void w8n_bf16(const uint8_t *p, float32x4_t *a, float32x4_t *b)
{
    uint16x8_t h = vld1q_u16((const uint16_t *)p);
    *a = vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h), 16));
    *b = vreinterpretq_f32_u32(vshll_high_n_u16(h, 16));
}

/* 16 weights per step in four accumulators per row (16 + 4 of the 32
 * registers at 4 rows), then 8, then the last 1..7 zero-padded. */
#define FDOT_NEON(NAME, W8, ESZ)                                                                      \
    ALWAYS void NAME##_body(int64_t n, const void *w, const void *x, size_t st, float *out, const int NR) \
    {                                                                                                \
        const uint8_t *wp = w;                                                                       \
        const float *xr[4];                                                                          \
        float32x4_t acc[4][4];                                                                       \
        _Pragma("GCC unroll 4") for (int r = 0; r < NR; r++) {                                       \
            xr[r] = XROW(x, st, r);                                                                  \
            acc[r][0] = acc[r][1] = acc[r][2] = acc[r][3] = vdupq_n_f32(0);                          \
        }                                                                                            \
        int64_t i = 0;                                                                               \
        float32x4_t w0, w1, w2, w3;                                                                  \
        for (; i + 16 <= n; i += 16) {                                                               \
            W8(wp + ESZ * i, &w0, &w1);                                                              \
            W8(wp + ESZ * (i + 8), &w2, &w3);                                                        \
            _Pragma("GCC unroll 4") for (int r = 0; r < NR; r++) {                                   \
                acc[r][0] = vfmaq_f32(acc[r][0], w0, vld1q_f32(xr[r] + i));                          \
                acc[r][1] = vfmaq_f32(acc[r][1], w1, vld1q_f32(xr[r] + i + 4));                      \
                acc[r][2] = vfmaq_f32(acc[r][2], w2, vld1q_f32(xr[r] + i + 8));                      \
                acc[r][3] = vfmaq_f32(acc[r][3], w3, vld1q_f32(xr[r] + i + 12));                     \
            }                                                                                        \
        }                                                                                            \
        if (i + 8 <= n) {                                                                            \
            W8(wp + ESZ * i, &w0, &w1);                                                              \
            _Pragma("GCC unroll 4") for (int r = 0; r < NR; r++) {                                   \
                acc[r][0] = vfmaq_f32(acc[r][0], w0, vld1q_f32(xr[r] + i));                          \
                acc[r][1] = vfmaq_f32(acc[r][1], w1, vld1q_f32(xr[r] + i + 4));                      \
            }                                                                                        \
            i += 8;                                                                                  \
        }                                                                                            \
        if (i < n) {                                                                                 \
            size_t rem = (size_t)(n - i);                                                            \
            uint8_t wt[32] = {0};                                                                    \
            memcpy(wt, wp + ESZ * i, rem * ESZ);                                                     \
            W8(wt, &w2, &w3);                                                                        \
            _Pragma("GCC unroll 4") for (int r = 0; r < NR; r++) {                                   \
                float xt[8] = {0};                                                                   \
                memcpy(xt, xr[r] + i, rem * sizeof(float));                                         \
                acc[r][2] = vfmaq_f32(acc[r][2], w2, vld1q_f32(xt));                                 \
                acc[r][3] = vfmaq_f32(acc[r][3], w3, vld1q_f32(xt + 4));                             \
            }                                                                                        \
        }                                                                                            \
        _Pragma("GCC unroll 4") for (int r = 0; r < NR; r++)                                         \
            out[r] = vaddvq_f32(vaddq_f32(vaddq_f32(acc[r][0], acc[r][1]), vaddq_f32(acc[r][2], acc[r][3]))); \
    }                                                                                                \
    FDOT_DISPATCH(NAME, )

FDOT_NEON(f32_neon, w8n_f32, 4)
FDOT_NEON(f16_neon, w8n_f16, 2)
FDOT_NEON(bf16_neon, w8n_bf16, 2)

#define HAVE_NEON_FDOT 1
#endif

/* ---- dispatch --------------------------------------------------------------- */

bool el_fdot_supported(el_type t) { return t == EL_TYPE_F32 || t == EL_TYPE_F16 || t == EL_TYPE_BF16; }


el_fdot_tile_fn el_fdot_get_tile(el_type t, el_fdot_isa isa)
{
    if (!el_fdot_supported(t)) return NULL;
    int k = t == EL_TYPE_F32 ? 0 : t == EL_TYPE_F16 ? 1 : 2;
#ifdef HAVE_X86_FDOT
    static const el_fdot_tile_fn f[3] = {f32_avx512_tile, f16_avx512_tile, bf16_avx512_tile};
    if (isa == EL_FDOT_AVX512 || (isa == EL_FDOT_AVX512_BF16 && k < 2)) return f[k];
#endif
    (void)k, (void)isa;
    return NULL;
}

el_fdot_fn el_fdot_get(el_type t, el_fdot_isa isa)
{
    if (!el_fdot_supported(t)) return NULL;
    int k = t == EL_TYPE_F32 ? 0 : t == EL_TYPE_F16 ? 1 : 2;
    switch (isa) {
    case EL_FDOT_SCALAR: {
        static const el_fdot_fn f[3] = {f32_scalar, f16_scalar, bf16_scalar};
        return f[k];
    }
#ifdef HAVE_X86_FDOT
    case EL_FDOT_AVX2: {
        static const el_fdot_fn f[3] = {f32_avx2, f16_avx2, bf16_avx2};
        return f[k];
    }
    case EL_FDOT_AVX512: {
        static const el_fdot_fn f[3] = {f32_avx512, f16_avx512, bf16_avx512};
        return f[k];
    }
    case EL_FDOT_AVX512_BF16: {
        static const el_fdot_fn f[3] = {f32_avx512, f16_avx512, bf16dot_avx512};
        return f[k];
    }
#endif
#ifdef HAVE_NEON_FDOT
    case EL_FDOT_NEON: {
        static const el_fdot_fn f[3] = {f32_neon, f16_neon, bf16_neon};
        return f[k];
    }
#endif
    default: return NULL;
    }
}

bool el_fdot_bf16_act(el_type t, el_fdot_isa isa) { return t == EL_TYPE_BF16 && isa == EL_FDOT_AVX512_BF16; }

void el_fdot_round_bf16(const float *x, uint16_t *dst, int64_t n)
{
#ifdef HAVE_X86_FDOT
    if (el_cpu()->avx512bf16 && el_cpu()->avx512bw && el_cpu()->avx512vl) {
        round_bf16_avx512(x, dst, n);
        return;
    }
#endif
    round_bf16_scalar(x, dst, n);
}

el_fdot_isa el_fdot_best_isa(void)
{
    const el_cpu_features *f = el_cpu();
    el_fdot_isa best = EL_FDOT_SCALAR;
#ifdef HAVE_X86_FDOT
    if (f->avx2 && f->fma && f->f16c) best = EL_FDOT_AVX2;
    if (best == EL_FDOT_AVX2 && f->avx512f && f->avx512bw && f->avx512vl) best = EL_FDOT_AVX512;
#elif defined(HAVE_NEON_FDOT)
    if (f->neon) best = EL_FDOT_NEON;
#endif
    const char *force = getenv("EL_KERNELS");
    if (force) {
        if (strcmp(force, "scalar") == 0) return EL_FDOT_SCALAR;
        if (strcmp(force, "avx2") == 0 && best >= EL_FDOT_AVX2 && best <= EL_FDOT_AVX512_BF16) return EL_FDOT_AVX2;
    }
    const char *bd = getenv("EL_BF16_DOT");
    if (best == EL_FDOT_AVX512 && f->avx512bf16 && bd && strcmp(bd, "1") == 0) best = EL_FDOT_AVX512_BF16;
    return best;
}

const char *el_fdot_isa_name(el_fdot_isa isa)
{
    switch (isa) {
    case EL_FDOT_AVX2: return "avx2";
    case EL_FDOT_AVX512: return "avx512";
    case EL_FDOT_AVX512_BF16: return "avx512-bf16dot";
    case EL_FDOT_NEON: return "neon";
    default: return "scalar";
    }
}
