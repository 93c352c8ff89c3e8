/* vexpf.c -- expf of many arguments at once, bit for bit the C library's
 * (see vexpf.h for why, and what was checked). */
#include "vexpf.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "edgelm/threads.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define VEXPF_X86 1

/* Lower end of the vector path: below it the library returns 0 through its
 * underflow branch (and sets errno), which the vector path does not repeat. */
#define VEXPF_LO (-0x1.9fe368p6f)

/* 2^(i/32) as double bits, less i << 47 so that adding k << 47 for k = 32 n + i
 * gives 2^n 2^(i/32) */
static uint64_t g_tab[32];

static inline double bits_to_double(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}
static inline uint64_t double_to_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

/* x * 32/ln 2 = k + r, r in [-1/2, 1/2]; e^x = 2^(k/32) 2^(r/32), the second
 * factor by a cubic in r. Every operation as the library performs it.
 * tab: the 32 table entries in 4 registers. */
#define T_VEXP __attribute__((target("avx512f")))
static inline __attribute__((always_inline)) T_VEXP __m256 vexp8(__m256 x, const __m512i tab[4])
{
    const __m512d inv_ln2_n = _mm512_set1_pd(0x1.71547652b82fep+0 * 32), shift = _mm512_set1_pd(0x1.8p+52);
    const __m512d c0 = _mm512_set1_pd(0x1.c6af84b912394p-5 / 32 / 32 / 32);
    const __m512d c1 = _mm512_set1_pd(0x1.ebfce50fac4f3p-3 / 32 / 32);
    const __m512d c2 = _mm512_set1_pd(0x1.62e42ff0c52d6p-1 / 32);
    __m512d xd = _mm512_cvtps_pd(x);
    __m512d z = _mm512_mul_pd(inv_ln2_n, xd);
    __m512d kd = _mm512_add_pd(z, shift);
    __m512i ki = _mm512_castpd_si512(kd);
    kd = _mm512_sub_pd(kd, shift);
    __m512d r = _mm512_fmsub_pd(inv_ln2_n, xd, kd);   /* the library's fused z - kd */
    /* tab[k % 32]: bits 0-3 of k pick within a half of the table, bit 4 the half */
    __m512i t = _mm512_mask_blend_epi64(_mm512_test_epi64_mask(ki, _mm512_set1_epi64(16)),
                                        _mm512_permutex2var_epi64(tab[0], ki, tab[1]),
                                        _mm512_permutex2var_epi64(tab[2], ki, tab[3]));
    t = _mm512_add_epi64(t, _mm512_slli_epi64(ki, 47));
    __m512d s = _mm512_castsi512_pd(t);
    __m512d p = _mm512_fmadd_pd(c0, r, c1);
    __m512d r2 = _mm512_mul_pd(r, r);
    __m512d y = _mm512_fmadd_pd(c2, r, _mm512_set1_pd(1.0));
    y = _mm512_fmadd_pd(p, r2, y);
    y = _mm512_mul_pd(y, s);
    return _mm512_cvtpd_ps(y);
}

static T_VEXP void vexpf_avx512(const float *x, float *y, int n)
{
    __m512i tab[4];
    for (int i = 0; i < 4; i++) tab[i] = _mm512_loadu_si512((const void *)(g_tab + 8 * i));
    const __m256 lo = _mm256_set1_ps(VEXPF_LO), zero = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        _mm256_storeu_ps(y + i, vexp8(v, tab));
        /* arguments the vector path does not cover (above 0, below VEXPF_LO, NaN): the library */
        int ok = _mm256_movemask_ps(_mm256_and_ps(_mm256_cmp_ps(v, lo, _CMP_GE_OQ), _mm256_cmp_ps(v, zero, _CMP_LE_OQ)));
        if (ok != 0xff)
            for (int l = 0; l < 8; l++)
                if (!(ok & (1u << l))) y[i + l] = expf(x[i + l]);
    }
    for (; i < n; i++) y[i] = expf(x[i]);
}
#endif

static bool g_exact;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void vexpf_init(void)
{
#ifdef VEXPF_X86
    if (!el_cpu()->avx512f) return;
    for (int i = 0; i < 32; i++) g_tab[i] = double_to_bits(exp2(i / 32.0)) - ((uint64_t)i << 47);
    /* the check: arguments spread over the range (every 2^15-th float) and
     * the one value that tells a fused from a separate final subtraction */
    enum { N_CHECK = 34304 };
    static float xs[N_CHECK], ys[N_CHECK];
    int n = 0;
    uint32_t lo;
    float flo = VEXPF_LO;
    memcpy(&lo, &flo, sizeof lo);
    for (uint32_t u = 0x80000000u; u <= lo && n < N_CHECK - 1; u += 1u << 15) memcpy(&xs[n++], &u, sizeof(float));
    xs[n++] = -0x1.f8cbb2p+5f;
    vexpf_avx512(xs, ys, n);
    for (int i = 0; i < n; i++) {
        float e = expf(xs[i]);
        if (memcmp(&e, &ys[i], sizeof e)) return;
    }
    g_exact = true;
#endif
}

bool el_vexpf_exact(void)
{
    pthread_once(&g_once, vexpf_init);
    return g_exact;
}

void el_vexpf(const float *x, float *y, int n)
{
#ifdef VEXPF_X86
    if (el_vexpf_exact()) {
        vexpf_avx512(x, y, n);
        return;
    }
#endif
    for (int i = 0; i < n; i++) y[i] = expf(x[i]);
}
