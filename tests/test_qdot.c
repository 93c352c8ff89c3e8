/* test_qdot.c -- every dot-product kernel on every ISA this CPU has.
 *
 * Integer kernels (qdot.h) against the float reference: weights decoded with
 * el_dequantize_row, activations kept in float, dot in double. The gap
 * allowed is what quantising the activations to 8 bits costs (relative to
 * sum |w||x|), and the SIMD paths must agree with the scalar one up to float
 * rounding.
 *
 * Float kernels (fdot.h: F32 / F16 / BF16 weights, F32 activations) against
 * the same double reference with a rigorous bound on float summation error,
 * against the scalar kernel, and the scalar kernel against the old path
 * (dequantise the row, ops_dot_f32) bit for bit.
 *
 * Then the matrix product of ops.c for batches of 1..5 rows on every ISA, and
 * (EL_QDOT_BENCH=1) a kernel microbenchmark in GB/s of weights. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgelm/threads.h"
#include "edgelm/types.h"
#include "model/fdot.h"
#include "model/ops.h"
#include "model/qdot.h"

static uint64_t rs = 88172645463325252ull;
static float frand(void)
{
    rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
    return (float)((double)(rs >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static void fill_weights(float *w, int64_t n)
{
    for (int64_t i = 0; i < n; i++) w[i] = frand() * (i % 7 == 0 ? 3.0f : 1.0f);
}
static void fill_acts(float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) x[i] = frand() * (i % 5 == 0 ? 4.0f : 1.0f);
}

/* ---- integer kernels ----------------------------------------------------------- */

static void test_kernels_vs_float_reference(void **state)
{
    (void)state;
    const el_type types[] = {EL_TYPE_Q8_0, EL_TYPE_Q4_0, EL_TYPE_Q5_0, EL_TYPE_Q4_K, EL_TYPE_Q5_K, EL_TYPE_Q6_K};
    const int64_t sizes[] = {256, 512, 768, 1024, 1536, 2304};
    el_qdot_isa best = el_qdot_best_isa();
    printf("# best ISA here: %s\n", el_qdot_isa_name(best));
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        el_type t = types[ti];
        double worst[4] = {0, 0, 0, 0}, worst_vs_scalar = 0;
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
            int64_t n = sizes[si];
            float *w = malloc(n * sizeof *w), *wd = malloc(n * sizeof *wd), *x = malloc(4 * n * sizeof *x);
            uint8_t *wq = malloc(el_row_size(t, n));
            size_t ar = el_qdot_act_row_bytes(t, n);
            uint8_t *aq = malloc(4 * ar);
            fill_weights(w, n);
            fill_acts(x, 4 * n);
            assert_int_equal(el_quantize_row(t, w, wq, n), 0);
            assert_int_equal(el_dequantize_row(t, wq, wd, n), 0);
            for (int r = 0; r < 4; r++) el_qdot_quantize_act(t, x + r * n, aq + r * ar, n);
            float scalar_out[4];
            el_qdot_get(t, EL_ISA_SCALAR)(n, wq, aq, ar, 4, scalar_out);
            for (int isa = 0; isa <= (int)best; isa++) {
                el_qdot_fn fn = el_qdot_get(t, (el_qdot_isa)isa);
                if (!fn) continue;   /* an ISA of the other architecture */
                float out4[4];
                fn(n, wq, aq, ar, 4, out4);
                for (int nr = 1; nr <= 4; nr++) {
                    float out[4];
                    fn(n, wq, aq, ar, nr, out);
                    for (int r = 0; r < nr; r++) {
                        double ref = 0, mag = 0;
                        for (int64_t i = 0; i < n; i++) ref += (double)wd[i] * x[r * n + i], mag += fabs((double)wd[i] * x[r * n + i]);
                        double rel = fabs(out[r] - ref) / mag;
                        if (rel > worst[isa]) worst[isa] = rel;
                        if (rel > 0.01) fail_msg("%s %s n=%lld row %d: %g vs %g (rel %.3g)", el_type_info(t)->name,
                                                 el_qdot_isa_name(isa), (long long)n, r, out[r], ref, rel);
                        double vs = fabs(out[r] - scalar_out[r]) / mag;
                        if (vs > worst_vs_scalar) worst_vs_scalar = vs;
                        if (vs > 1e-5) fail_msg("%s %s differs from scalar by %g", el_type_info(t)->name, el_qdot_isa_name(isa), vs);
                        /* the k-quant kernels give a row the same arithmetic whatever the row count */
                        if (el_qdot_uses_k(t) && out[r] != out4[r])
                            fail_msg("%s %s row %d: %d rows give %.9g, 4 rows %.9g", el_type_info(t)->name,
                                     el_qdot_isa_name(isa), r, nr, out[r], out4[r]);
                    }
                }
            }
            free(w), free(wd), free(x), free(wq), free(aq);
        }
        printf("# %-5s max |err| / sum|w x|: scalar %.2e, avx2 %.2e, vnni %.2e, neon %.2e; SIMD vs scalar %.1e\n",
               el_type_info(t)->name, worst[0], worst[1], worst[2], worst[3], worst_vs_scalar);
    }
}

/* ---- float kernels --------------------------------------------------------------- */

/* Rigorous bound on |float result - exact| / sum |w x| for every float kernel
 * (weights widened exactly, products exact or rounded once): a term passes
 * through at most one product rounding, a partial-sum chain of n/8 + 8
 * additions (scalar: n/8 chains plus the n % 8 tail on sum 0; SIMD chains
 * are n/16 or n/32 long plus the 8- / 16-element and tail steps) and a
 * reduction tree of at most 3 + 1 + 4 levels: k <= n/8 + 17 roundings, each
 * contributing at most u = 2^-24, so gamma_k = k u / (1 - k u) < 1.01 k u. */
static double float_bound(int64_t n) { return ((double)n / 8 + 17) * 0x1p-24 * 1.01; }

static bool fisa_runs(el_fdot_isa isa)
{
    const el_cpu_features *f = el_cpu();
    if (!el_fdot_get(EL_TYPE_F16, isa)) return false;   /* not compiled for this architecture */
    bool avx2 = f->avx2 && f->fma && f->f16c, avx512 = avx2 && f->avx512f && f->avx512bw && f->avx512vl;
    switch (isa) {
    case EL_FDOT_SCALAR: return true;
    case EL_FDOT_AVX2: return avx2;
    case EL_FDOT_AVX512: return avx512;
    case EL_FDOT_AVX512_BF16: return avx512 && f->avx512bf16;
    case EL_FDOT_NEON: return f->neon;
    }
    return false;
}

#define NFISA 5

static void test_float_kernels(void **state)
{
    (void)state;
    const el_type types[] = {EL_TYPE_F32, EL_TYPE_F16, EL_TYPE_BF16};
    const int64_t sizes[] = {1, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 100, 257, 1000, 4096};
    printf("# float kernels: best here %s; run:", el_fdot_isa_name(el_fdot_best_isa()));
    for (int isa = 0; isa < NFISA; isa++)
        if (fisa_runs((el_fdot_isa)isa)) printf(" %s", el_fdot_isa_name((el_fdot_isa)isa));
    printf("\n");
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        el_type t = types[ti];
        double worst[NFISA] = {0}, worst_vs_scalar = 0, worst_bf16_vs_f32act = 0, worst_ratio = 0;
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
            int64_t n = sizes[si];
            size_t xs = (size_t)n + 3;   /* activation rows 4(n+3) bytes apart: not a multiple of 16 */
            float *w = malloc(n * sizeof *w), *wd = malloc(n * sizeof *wd), *x = malloc(4 * xs * sizeof *x);
            uint16_t *xb = malloc(4 * xs * sizeof *xb);
            uint8_t *wbuf = malloc(el_row_size(t, n) + 1), *wq = wbuf + 1;   /* weights at an odd address */
            fill_weights(w, n);
            fill_acts(x, 4 * xs);
            assert_int_equal(el_quantize_row(t, w, wq, n), 0);
            assert_int_equal(el_dequantize_row(t, wq, wd, n), 0);
            el_fdot_round_bf16(x, xb, (int64_t)(4 * xs));
            double ref[4], ref_b[4], mag[4], mag_b[4];
            for (int r = 0; r < 4; r++) {
                ref[r] = ref_b[r] = mag[r] = mag_b[r] = 0;
                for (int64_t i = 0; i < n; i++) {
                    double p = (double)wd[i] * x[r * xs + i], pb = (double)wd[i] * el_bf16_to_fp32(xb[r * xs + i]);
                    ref[r] += p, mag[r] += fabs(p), ref_b[r] += pb, mag_b[r] += fabs(pb);
                }
            }
            /* the scalar kernel is the old path: dequantise, ops_dot_f32 */
            float scalar_out[4];
            el_fdot_get(t, EL_FDOT_SCALAR)(n, wq, x, xs * sizeof(float), 4, scalar_out);
            for (int r = 0; r < 4; r++) {
                float old = ops_dot_f32(x + r * xs, wd, (int)n);
                if (old != scalar_out[r]) fail_msg("%s n=%lld: scalar kernel %.9g, dequantise + ops_dot_f32 %.9g",
                                                   el_type_info(t)->name, (long long)n, scalar_out[r], old);
            }
            double bound = float_bound(n);
            for (int isa = 0; isa < NFISA; isa++) {
                if (!fisa_runs((el_fdot_isa)isa)) continue;
                el_fdot_fn fn = el_fdot_get(t, (el_fdot_isa)isa);
                bool bact = el_fdot_bf16_act(t, (el_fdot_isa)isa);
                const void *xa = bact ? (const void *)xb : (const void *)x;
                size_t st = xs * (bact ? sizeof(uint16_t) : sizeof(float));
                float out4[4];
                fn(n, wq, xa, st, 4, out4);
                for (int nr = 1; nr <= 4; nr++) {
                    float out[4];
                    fn(n, wq, xa, st, nr, out);
                    for (int r = 0; r < nr; r++) {
                        if (out[r] != out4[r])
                            fail_msg("%s %s n=%lld row %d: %d rows give %.9g, 4 rows %.9g", el_type_info(t)->name,
                                     el_fdot_isa_name(isa), (long long)n, r, nr, out[r], out4[r]);
                        /* vdpbf16ps flushes BF16 subnormals to zero: none occur with these inputs */
                        double e = fabs(out[r] - (bact ? ref_b[r] : ref[r])) / (bact ? mag_b[r] : mag[r]);
                        if (e > worst[isa]) worst[isa] = e;
                        if (e / bound > worst_ratio) worst_ratio = e / bound;
                        if (e > bound)
                            fail_msg("%s %s n=%lld row %d: %.9g vs %.9g (rel %.3g > bound %.3g)", el_type_info(t)->name,
                                     el_fdot_isa_name(isa), (long long)n, r, out[r], bact ? ref_b[r] : ref[r], e, bound);
                        if (bact) {
                            /* what rounding the activations to BF16 costs: |x - bf16(x)| <= 2^-8 |x|
                             * (RNE, 8 significant bits), so <= 2^-8 sum |w x| plus the float sums */
                            double eb = fabs(out[r] - ref[r]) / mag[r];
                            if (eb > worst_bf16_vs_f32act) worst_bf16_vs_f32act = eb;
                            if (eb > 0x1p-8 + 2 * bound) fail_msg("bf16dot n=%lld: %.3g from the F32-activation result", (long long)n, eb);
                            continue;
                        }
                        /* both within `bound` of the exact value */
                        double vs = fabs(out[r] - scalar_out[r]) / mag[r];
                        if (vs > worst_vs_scalar) worst_vs_scalar = vs;
                        if (vs > 2 * bound) fail_msg("%s %s differs from scalar by %g", el_type_info(t)->name, el_fdot_isa_name(isa), vs);
                    }
                }
            }
            free(w), free(wd), free(x), free(xb), free(wbuf);
        }
        printf("# %-4s max |err| / sum|w x|: scalar %.2e, avx2 %.2e, avx512 %.2e, neon %.2e; SIMD vs scalar %.1e; "
               "worst err / bound %.3f",
               el_type_info(t)->name, worst[EL_FDOT_SCALAR], worst[EL_FDOT_AVX2], worst[EL_FDOT_AVX512], worst[EL_FDOT_NEON],
               worst_vs_scalar, worst_ratio);
        if (t == EL_TYPE_BF16 && fisa_runs(EL_FDOT_AVX512_BF16))
            printf("; avx512-bf16dot %.2e vs BF16-rounded activations, %.2e vs F32 ones", worst[EL_FDOT_AVX512_BF16],
                   worst_bf16_vs_f32act);
        printf("\n");
    }
}

/* The tile kernels (several weight rows at once, prompt batches) give every
 * dot product bit for bit as the one-row kernel of the same ISA does, for
 * row lengths around the 16- and 32-element steps and every nw, nr. */
static void test_float_tiles(void **state)
{
    (void)state;
    const el_type types[] = {EL_TYPE_F32, EL_TYPE_F16, EL_TYPE_BF16};
    const int64_t sizes[] = {1, 15, 16, 17, 31, 32, 33, 63, 100, 1000, 2048};
    int tested = 0;
    for (int isa = 0; isa < NFISA; isa++)
        for (size_t ti = 0; ti < 3; ti++) {
            el_type t = types[ti];
            el_fdot_tile_fn tf = fisa_runs((el_fdot_isa)isa) ? el_fdot_get_tile(t, (el_fdot_isa)isa) : NULL;
            if (!tf) continue;
            el_fdot_fn fn = el_fdot_get(t, (el_fdot_isa)isa);
            for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
                int64_t n = sizes[si];
                enum { NWMAX = EL_FDOT_TILE_NW + 1 };
                size_t xs = (size_t)n + 3, wrow = el_row_size(t, n) + 6;   /* rows at odd strides */
                float *w = malloc(n * sizeof *w), *x = malloc(4 * xs * sizeof *x);
                uint8_t *wq = malloc(wrow * NWMAX + 1);
                fill_acts(x, 4 * xs);
                for (int q = 0; q < NWMAX; q++) {
                    fill_weights(w, n);
                    for (int64_t i = 0; i < n; i++) w[i] *= 1.0f + 0.25f * (float)q;
                    assert_int_equal(el_quantize_row(t, w, wq + 1 + q * wrow, n), 0);
                }
                for (int nw = 1; nw <= NWMAX; nw++)
                    for (int nr = 1; nr <= 4; nr++) {
                        float out[4 * NWMAX], one[4];
                        tf(n, wq + 1, wrow, nw, x, xs * sizeof(float), nr, out);
                        for (int q = 0; q < nw; q++) {
                            fn(n, wq + 1 + q * wrow, x, xs * sizeof(float), nr, one);
                            for (int r = 0; r < nr; r++)
                                if (memcmp(&out[4 * q + r], &one[r], sizeof(float)))
                                    fail_msg("%s %s n=%lld nw=%d nr=%d row %d col %d: tile %.9g, one row %.9g",
                                             el_type_info(t)->name, el_fdot_isa_name((el_fdot_isa)isa), (long long)n, nw,
                                             nr, q, r, out[4 * q + r], one[r]);
                        }
                    }
                free(w), free(x), free(wq);
            }
            tested++;
        }
    printf("# float tile kernels checked: %d (ISA x type)\n", tested);
}

/* ---- the matrix product of ops.c --------------------------------------------------- */

/* Y = X W^T for batches of 1..5 rows (groups of 4 plus the rest) on every ISA,
 * against double: float types within float_bound, Q5_K within the integer
 * kernels' 1% and within 1e-5 of the scalar ISA. */
static void test_matmul_batches(void **state)
{
    (void)state;
    const el_type types[] = {EL_TYPE_F32, EL_TYPE_F16, EL_TYPE_BF16, EL_TYPE_Q5_K};
    const int64_t ins[] = {33, 257, 768};
    const int64_t rows = 37;
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        el_type t = types[ti];
        bool q = el_qdot_supported(t);
        double worst = 0;
        for (size_t ii = 0; ii < sizeof ins / sizeof ins[0]; ii++) {
            int64_t in = ins[ii];
            if (in % el_type_info(t)->block_size) continue;
            size_t rb = el_row_size(t, in);
            float *w = malloc(rows * in * sizeof *w), *wd = malloc(rows * in * sizeof *wd), *x = malloc(5 * in * sizeof *x);
            float *y = malloc(5 * rows * sizeof *y), *ys = malloc(5 * rows * sizeof *ys);
            uint8_t *wq = malloc(rows * rb);
            fill_weights(w, rows * in);
            fill_acts(x, 5 * in);
            for (int64_t r = 0; r < rows; r++) {
                assert_int_equal(el_quantize_row(t, w + r * in, wq + r * rb, in), 0);
                assert_int_equal(el_dequantize_row(t, wq + r * rb, wd + r * in, in), 0);
            }
            el_gguf_tensor W = {0};
            W.type = t, W.ne[0] = in, W.ne[1] = rows, W.ne[2] = W.ne[3] = 1, W.data = wq;
            el_ops o;
            el_err err;
            assert_int_equal(el_ops_init(&o, NULL, in, &err), 0);
            int nisa = q ? 4 : NFISA;
            for (int n = 1; n <= 5; n++) {
                o.isa = EL_ISA_SCALAR, o.fisa = EL_FDOT_SCALAR;
                el_matmul_tensor(&o, &W, x, n, ys);
                for (int isa = 0; isa < nisa; isa++) {
                    if (q) {
                        if (isa > (int)el_qdot_best_isa() || !el_qdot_get(t, (el_qdot_isa)isa)) continue;
                        o.isa = isa;
                    } else {
                        if (!fisa_runs((el_fdot_isa)isa)) continue;
                        o.fisa = isa;
                    }
                    /* the opt-in vdpbf16ps path rounds the activations to BF16: 2^-8 more (see above) */
                    double extra = !q && el_fdot_bf16_act(t, (el_fdot_isa)isa) ? 0x1p-8 : 0;
                    memset(y, 0, 5 * rows * sizeof *y);
                    el_matmul_tensor(&o, &W, x, n, y);
                    for (int i = 0; i < n; i++)
                        for (int64_t r = 0; r < rows; r++) {
                            double ref = 0, mag = 0;
                            for (int64_t k = 0; k < in; k++) {
                                double p = (double)wd[r * in + k] * x[i * in + k];
                                ref += p, mag += fabs(p);
                            }
                            double e = fabs(y[i * rows + r] - ref) / mag, vs = fabs(y[i * rows + r] - ys[i * rows + r]) / mag;
                            if (e > worst && extra == 0) worst = e;
                            if (e > (q ? 0.01 : float_bound(in) + extra) || vs > (q ? 1e-5 : 2 * float_bound(in) + extra))
                                fail_msg("%s isa %d in=%lld n=%d: Y[%d][%lld] = %.9g, exact %.9g, scalar %.9g",
                                         el_type_info(t)->name, isa, (long long)in, n, i, (long long)r, y[i * rows + r], ref,
                                         ys[i * rows + r]);
                        }
                }
            }
            el_ops_free(&o);
            free(w), free(wd), free(x), free(y), free(ys), free(wq);
        }
        printf("# matmul %-4s batches 1..5, %lld rows: max |err| / sum|w x| %.2e%s\n", el_type_info(t)->name, (long long)rows,
               worst, t == EL_TYPE_BF16 && fisa_runs(EL_FDOT_AVX512_BF16) ? "; the BF16-activation path checked too" : "");
    }
}

/* ---- microbenchmark (EL_QDOT_BENCH=1) ---------------------------------------------- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* GB/s of weight bytes through one thread: a 2048-wide matrix of ~4 MiB (L3
 * here), every row times 1 and 4 activation rows (4 rows: 4x the arithmetic
 * per weight byte). */
static void test_bench(void **state)
{
    (void)state;
    const char *e = getenv("EL_QDOT_BENCH");
    if (!e || strcmp(e, "1") != 0) {
        printf("# microbenchmark skipped (EL_QDOT_BENCH=1 runs it)\n");
        return;
    }
    const el_type types[] = {EL_TYPE_Q4_K, EL_TYPE_Q5_K, EL_TYPE_Q6_K, EL_TYPE_F32, EL_TYPE_F16, EL_TYPE_BF16};
    const int64_t in = 2048;
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        el_type t = types[ti];
        bool q = el_qdot_supported(t);
        size_t rb = el_row_size(t, in);
        int64_t rows = (int64_t)((4u << 20) / rb);
        float *w = malloc(in * sizeof *w), *x = malloc(4 * in * sizeof *x);
        uint8_t *wq = malloc(rows * rb);
        fill_acts(x, 4 * in);
        for (int64_t r = 0; r < rows; r++) fill_weights(w, in), el_quantize_row(t, w, wq + r * rb, in);
        size_t ar = q ? el_qdot_act_row_bytes(t, in) : in * sizeof(float);
        uint8_t *act = malloc(4 * (q ? ar : in * sizeof(uint16_t)));
        for (int isa = 0; isa < (q ? 4 : NFISA); isa++) {
            const void *a = x;
            size_t st = in * sizeof(float);
            union {
                el_qdot_fn q;
                el_fdot_fn f;
            } fn;
            if (q) {
                if (isa > (int)el_qdot_best_isa() || !(fn.q = el_qdot_get(t, (el_qdot_isa)isa))) continue;
                for (int r = 0; r < 4; r++) el_qdot_quantize_act(t, x + r * in, act + r * ar, in);
                a = act, st = ar;
            } else {
                if (!fisa_runs((el_fdot_isa)isa)) continue;
                fn.f = el_fdot_get(t, (el_fdot_isa)isa);
                if (el_fdot_bf16_act(t, (el_fdot_isa)isa)) {
                    el_fdot_round_bf16(x, (uint16_t *)act, 4 * in);
                    a = act, st = in * sizeof(uint16_t);
                }
            }
            printf("# bench %-4s %-15s", el_type_info(t)->name,
                   q ? el_qdot_isa_name((el_qdot_isa)isa) : el_fdot_isa_name((el_fdot_isa)isa));
            for (int nr = 1; nr <= 4; nr += 3) {
                float out[4], sink = 0;
                double best = 0;
                for (int trial = 0; trial < 7; trial++) {   /* the best of 7: other jobs share the CPU */
                    int reps = 0;
                    double t0 = now(), t1;
                    do {
                        for (int64_t r = 0; r < rows; r++) {
                            if (q) fn.q(in, wq + r * rb, a, st, nr, out);
                            else fn.f(in, wq + r * rb, a, st, nr, out);
                            sink += out[0];
                        }
                        reps++;
                    } while ((t1 = now()) - t0 < 0.05);
                    double gbs = (double)rows * rb * reps / (t1 - t0) / 1e9;
                    if (gbs > best) best = gbs;
                }
                printf("  %d row%s %6.2f GB/s", nr, nr > 1 ? "s" : " ", best);
                if (sink == 12345.678f) printf("!");
            }
            printf("\n");
        }
        free(w), free(x), free(wq), free(act);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernels_vs_float_reference),
        cmocka_unit_test(test_float_kernels),
        cmocka_unit_test(test_float_tiles),
        cmocka_unit_test(test_matmul_batches),
        cmocka_unit_test(test_bench),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
