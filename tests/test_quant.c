/* test_quant.c -- element types, fp16/bf16 conversion, dequantisers and
 * quantisers.
 *
 * Independent checks only: the traits table against ggml's published block
 * sizes; fp16/bf16 against known bit patterns and against the definition of
 * round-to-nearest-even; each dequantiser against blocks packed here from a
 * per-element description of the layout (a different formulation from the
 * decoders' loops) with analytically known values; quantise -> dequantise
 * error against the quantisation step each format guarantees; and the real
 * tensors of stories260K.gguf read through a second path (stdio). */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgelm/gguf.h"
#include "edgelm/types.h"

static uint16_t F16(float f) { return el_fp32_to_fp16(f); }

static float bits_to_f(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static uint32_t f_to_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* ---- traits ---- */

static void test_traits(void **state)
{
    (void)state;
    /* (id, name, block, bytes) as ggml defines them */
    struct { uint32_t id; const char *name; int64_t bs; size_t ts; bool deq; } want[] = {
        {0, "f32", 1, 4, true}, {1, "f16", 1, 2, true}, {2, "q4_0", 32, 18, true}, {3, "q4_1", 32, 20, true},
        {6, "q5_0", 32, 22, true}, {7, "q5_1", 32, 24, true}, {8, "q8_0", 32, 34, true}, {9, "q8_1", 32, 36, true},
        {10, "q2_K", 256, 84, true}, {11, "q3_K", 256, 110, true}, {12, "q4_K", 256, 144, true},
        {13, "q5_K", 256, 176, true}, {14, "q6_K", 256, 210, true}, {15, "q8_K", 256, 292, true},
        {16, "iq2_xxs", 256, 66, false}, {17, "iq2_xs", 256, 74, false}, {18, "iq3_xxs", 256, 98, false},
        {19, "iq1_s", 256, 50, false}, {20, "iq4_nl", 32, 18, false}, {21, "iq3_s", 256, 110, false},
        {22, "iq2_s", 256, 82, false}, {23, "iq4_xs", 256, 136, false}, {24, "i8", 1, 1, false},
        {25, "i16", 1, 2, false}, {26, "i32", 1, 4, false}, {27, "i64", 1, 8, false}, {28, "f64", 1, 8, false},
        {29, "iq1_m", 256, 56, false}, {30, "bf16", 1, 2, true}, {34, "tq1_0", 256, 54, false},
        {35, "tq2_0", 256, 66, false}, {39, "mxfp4", 32, 17, false},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const el_type_traits *t = el_type_info(want[i].id);
        assert_non_null(t);
        assert_string_equal(t->name, want[i].name);
        assert_int_equal(t->block_size, want[i].bs);
        assert_int_equal(t->type_size, want[i].ts);
        assert_int_equal(t->can_dequantize, want[i].deq);
        assert_int_equal(t->is_quantized, want[i].bs > 1);
    }
    uint32_t gone[] = {4, 5, 31, 32, 33, 36, 37, 38, 43, 99, 1000, UINT32_MAX};
    for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++) assert_null(el_type_info(gone[i]));
    printf("traits: %zu ggml types checked, %zu removed/unknown ids refused\n", sizeof want / sizeof want[0],
           sizeof gone / sizeof gone[0]);
    assert_int_equal(el_row_size(EL_TYPE_Q4_K, 4096), 16 * 144);
    assert_int_equal(el_row_size(EL_TYPE_Q8_0, 96), 3 * 34);
    assert_int_equal(el_row_size(EL_TYPE_F16, 7), 14);
    assert_int_equal(el_row_size(EL_TYPE_Q4_0, 33), 0);           /* not a whole block */
    assert_int_equal(el_row_size(EL_TYPE_F32, -4), 0);
    assert_int_equal(el_row_size(EL_TYPE_F32, INT64_MAX), 0);     /* bytes overflow */
    assert_int_equal(el_row_size((el_type)4, 32), 0);
}

/* ---- fp16 / bf16 ---- */

static void test_fp16_known_patterns(void **state)
{
    (void)state;
    struct { uint16_t h; float f; } exact[] = {
        {0x0000, 0.0f}, {0x3c00, 1.0f}, {0xc000, -2.0f}, {0x7bff, 65504.0f}, {0xfbff, -65504.0f},
        {0x0001, 0x1p-24f}, {0x03ff, 1023 * 0x1p-24f}, {0x0400, 0x1p-14f}, {0x3555, 0.333251953125f},
        {0x3800, 0.5f}, {0x5640, 100.0f}, {0x8001, -0x1p-24f},
    };
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++) {
        float f = el_fp16_to_fp32(exact[i].h);
        assert_true(f == exact[i].f);
        assert_int_equal(el_fp32_to_fp16(exact[i].f), exact[i].h);
    }
    assert_true(isinf(el_fp16_to_fp32(0x7c00)) && el_fp16_to_fp32(0x7c00) > 0);
    assert_true(isinf(el_fp16_to_fp32(0xfc00)) && el_fp16_to_fp32(0xfc00) < 0);
    assert_true(isnan(el_fp16_to_fp32(0x7e00)) && isnan(el_fp16_to_fp32(0x7c01)));
    assert_int_equal(f_to_bits(el_fp16_to_fp32(0x8000)), 0x80000000u);
    assert_int_equal(el_fp32_to_fp16(-0.0f), 0x8000);
    /* rounding: ties to even, overflow, underflow */
    struct { float f; uint16_t h; const char *why; } rnd[] = {
        {1.0f + 0x1p-11f, 0x3c00, "tie -> even (down)"},
        {1.0f + 3 * 0x1p-11f, 0x3c02, "tie -> even (up)"},
        {1.0f + 0x1p-11f + 0x1p-20f, 0x3c01, "just above tie"},
        {65519.0f, 0x7bff, "below overflow threshold"},
        {65520.0f, 0x7c00, "tie at the top -> inf"},
        {1e10f, 0x7c00, "overflow"},
        {-1e10f, 0xfc00, "negative overflow"},
        {0x1p-25f, 0x0000, "half of the smallest subnormal -> 0 (even)"},
        {0x1p-25f * 1.0001f, 0x0001, "just above -> smallest subnormal"},
        {3 * 0x1p-25f, 0x0002, "subnormal tie -> even (up)"},
        {5 * 0x1p-25f, 0x0002, "subnormal tie -> even (down)"},
        {0x1p-14f - 0x1p-26f, 0x0400, "rounds up into the normals"},
        {1e-10f, 0x0000, "underflow"},
        {INFINITY, 0x7c00, "inf"},
    };
    for (size_t i = 0; i < sizeof rnd / sizeof rnd[0]; i++) {
        uint16_t h = el_fp32_to_fp16(rnd[i].f);
        if (h != rnd[i].h) fail_msg("fp16(%a) = 0x%04x, expected 0x%04x (%s)", (double)rnd[i].f, h, rnd[i].h, rnd[i].why);
    }
    uint16_t hn = el_fp32_to_fp16(NAN);
    assert_true((hn & 0x7c00) == 0x7c00 && (hn & 0x3ff));
    /* every half round-trips */
    int n_rt = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) continue;
        assert_int_equal(el_fp32_to_fp16(el_fp16_to_fp32((uint16_t)h)), h);
        n_rt++;
    }
    /* fp32 -> fp16 is the nearest half, ties to even: checked against the
     * definition on 2M pseudo-random finite floats of half range */
    uint64_t s = 12345;
    int checked = 0;
    for (int i = 0; i < 2000000; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t u = (uint32_t)(s >> 32);
        u = (u & 0x80000000u) | (0x33000000u + (u & 0x7fffffffu) % (0x47800000u - 0x33000000u));
        float f = bits_to_f(u);
        uint16_t h = el_fp32_to_fp16(f);
        /* IEEE rounds as if the exponent were unbounded: inf stands for 2^16 */
        uint16_t mag = h & 0x7fff;
        double x = fabs((double)f), best = fabs(x - (mag == 0x7c00 ? 65536.0 : (double)el_fp16_to_fp32(mag)));
        for (int d = -1; d <= 1; d += 2) {
            int m = (int)mag + d;
            if (m < 0 || m > 0x7c00) continue;
            double other = fabs(x - (m == 0x7c00 ? 65536.0 : (double)el_fp16_to_fp32((uint16_t)m)));
            if (other < best || (other == best && (mag & 1))) fail_msg("fp16(%a) = 0x%04x is not the nearest-even half", (double)f, h);
        }
        if ((h >> 15) != (u >> 31) && mag) fail_msg("sign lost for %a", (double)f);
        checked++;
    }
    printf("fp16: %zu known patterns, %zu rounding cases, %d halves round-trip, %d random floats nearest-even\n",
           sizeof exact / sizeof exact[0], sizeof rnd / sizeof rnd[0], n_rt, checked);
}

static void test_bf16(void **state)
{
    (void)state;
    assert_int_equal(el_fp32_to_bf16(1.0f), 0x3f80);
    assert_int_equal(el_fp32_to_bf16(-2.0f), 0xc000);
    assert_int_equal(el_fp32_to_bf16(1.0f + 0x1p-8f), 0x3f80);      /* tie -> even */
    assert_int_equal(el_fp32_to_bf16(1.0f + 3 * 0x1p-8f), 0x3f82);  /* tie -> even (up) */
    assert_int_equal(el_fp32_to_bf16(1.0f + 0x1p-8f + 0x1p-20f), 0x3f81);
    assert_int_equal(el_fp32_to_bf16(3.4028235e38f), 0x7f80);       /* FLT_MAX rounds to inf */
    assert_int_equal(el_fp32_to_bf16(INFINITY), 0x7f80);
    assert_int_equal(el_fp32_to_bf16(bits_to_f(0x00000001u)), 0x0000); /* tiny subnormal */
    assert_int_equal(el_fp32_to_bf16(bits_to_f(0x00018000u)), 0x0002); /* subnormal tie -> even */
    uint16_t n = el_fp32_to_bf16(NAN);
    assert_true((n & 0x7f80) == 0x7f80 && (n & 0x7f));
    assert_true(el_bf16_to_fp32(0x3f80) == 1.0f);
    assert_true(el_bf16_to_fp32(0x4049) == 3.140625f);
    for (uint32_t h = 0; h < 65536; h++) {
        if ((h & 0x7f80) == 0x7f80 && (h & 0x7f)) continue;
        assert_int_equal(el_fp32_to_bf16(el_bf16_to_fp32((uint16_t)h)), h);
    }
    printf("bf16: known patterns, ties, overflow, subnormals, nan and all 65536 round trips ok\n");
}

/* ---- dequantisers on hand-packed blocks ---- */

static void check_close(const char *what, const float *y, const double *want, int n)
{
    double maxd = 0;
    for (int i = 0; i < n; i++) {
        double d = fabs(y[i] - want[i]);
        if (d > maxd) maxd = d;
        if (d > 1e-6 * (1 + fabs(want[i]))) fail_msg("%s: element %d = %.9g, expected %.9g", what, i, y[i], want[i]);
    }
    printf("  %-5s hand-packed block(s): %d values, max |diff| %.3g\n", what, n, maxd);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void test_dequant_legacy_blocks(void **state)
{
    (void)state;
    uint8_t b[2 * 36];
    float y[64];
    double w[64];

    /* Q4_0: d = 0.5; byte j = nibble j (element j) | nibble 15-j (element j+16) */
    memset(b, 0, sizeof b);
    put16(b, 0x3800);
    for (int j = 0; j < 16; j++) b[2 + j] = (uint8_t)(j | (15 - j) << 4);
    for (int j = 0; j < 16; j++) { w[j] = 0.5 * (j - 8); w[j + 16] = 0.5 * (15 - j - 8); }
    assert_int_equal(el_dequantize_row(EL_TYPE_Q4_0, b, y, 32), 0);
    check_close("q4_0", y, w, 32);

    /* Q4_1: d = 0.25, m = -1 */
    put16(b, 0x3400);
    put16(b + 2, 0xbc00);
    for (int j = 0; j < 16; j++) b[4 + j] = (uint8_t)((j * 3 % 16) | (j * 5 % 16) << 4);
    for (int j = 0; j < 16; j++) { w[j] = 0.25 * (j * 3 % 16) - 1; w[j + 16] = 0.25 * (j * 5 % 16) - 1; }
    assert_int_equal(el_dequantize_row(EL_TYPE_Q4_1, b, y, 32), 0);
    check_close("q4_1", y, w, 32);

    /* Q5_0: d = 1; 5th bit of element e in bit e of the LE u32 qh; set for e % 3 == 0 */
    memset(b, 0, sizeof b);
    put16(b, 0x3c00);
    uint32_t qh = 0;
    for (int e = 0; e < 32; e++) if (e % 3 == 0) qh |= 1u << e;
    for (int k = 0; k < 4; k++) b[2 + k] = (uint8_t)(qh >> (8 * k));
    for (int j = 0; j < 16; j++) b[6 + j] = (uint8_t)(j | (j ^ 5) << 4);
    for (int e = 0; e < 32; e++) {
        int lo = e < 16 ? e : ((e - 16) ^ 5);
        w[e] = (lo | (e % 3 == 0) << 4) - 16;
    }
    assert_int_equal(el_dequantize_row(EL_TYPE_Q5_0, b, y, 32), 0);
    check_close("q5_0", y, w, 32);

    /* Q5_1: d = 0.5, m = 2, same bits */
    memset(b, 0, sizeof b);
    put16(b, 0x3800);
    put16(b + 2, 0x4000);
    for (int k = 0; k < 4; k++) b[4 + k] = (uint8_t)(qh >> (8 * k));
    for (int j = 0; j < 16; j++) b[8 + j] = (uint8_t)(j | (j ^ 5) << 4);
    for (int e = 0; e < 32; e++) {
        int lo = e < 16 ? e : ((e - 16) ^ 5);
        w[e] = 0.5 * (lo | (e % 3 == 0) << 4) + 2;
    }
    assert_int_equal(el_dequantize_row(EL_TYPE_Q5_1, b, y, 32), 0);
    check_close("q5_1", y, w, 32);

    /* Q8_0, two blocks: d = 0.125 and d = -3 */
    put16(b, 0x3000);
    for (int j = 0; j < 32; j++) b[2 + j] = (uint8_t)(int8_t)(j * 8 - 128);
    put16(b + 34, 0xc200);
    for (int j = 0; j < 32; j++) b[36 + j] = (uint8_t)(int8_t)(127 - j);
    for (int j = 0; j < 32; j++) { w[j] = 0.125 * (j * 8 - 128); w[32 + j] = -3.0 * (127 - j); }
    assert_int_equal(el_dequantize_row(EL_TYPE_Q8_0, b, y, 64), 0);
    check_close("q8_0", y, w, 64);

    /* Q8_1: d = 2, s (ignored) */
    put16(b, 0x4000);
    put16(b + 2, 0x1234);
    for (int j = 0; j < 32; j++) b[4 + j] = (uint8_t)(int8_t)(j - 20);
    for (int j = 0; j < 32; j++) w[j] = 2.0 * (j - 20);
    assert_int_equal(el_dequantize_row(EL_TYPE_Q8_1, b, y, 32), 0);
    check_close("q8_1", y, w, 32);

    /* plain types */
    uint8_t h[8];
    put16(h, 0x3c00); put16(h + 2, 0xc500); put16(h + 4, 0x0001); put16(h + 6, 0x7bff);
    double wh[4] = {1, -5, 0x1p-24, 65504};
    assert_int_equal(el_dequantize_row(EL_TYPE_F16, h, y, 4), 0);
    check_close("f16", y, wh, 4);
    put16(h, 0x3f80); put16(h + 2, 0xc0a0); put16(h + 4, 0x4049); put16(h + 6, 0x0000);
    double wb[4] = {1, -5, 3.140625, 0};
    assert_int_equal(el_dequantize_row(EL_TYPE_BF16, h, y, 4), 0);
    check_close("bf16", y, wb, 4);

    /* refusals */
    assert_int_equal(el_dequantize_row(EL_TYPE_Q4_0, b, y, 31), -1);
    assert_int_equal(el_dequantize_row(EL_TYPE_IQ2_XXS, b, y, 256), -1);
    assert_int_equal(el_dequantize_row((el_type)5, b, y, 32), -1);
}

/* K-quant layouts described per element e in 0..255 of a super-block:
 *   2-bit planes (Q2_K, Q3_K): byte 32*(e/128) + e%32, bits 2*((e%128)/32)
 *   nibbles (Q4_K, Q5_K):      byte 32*(e/64) + e%32, high nibble if e%64 >= 32
 *   5th bit (Q5_K) / high bit (Q3_K): byte e%32, bit e/32
 *   Q6_K: low nibble in ql[64*(e/128) + 32*(g&1) + e%32] (high nibble if g >= 2,
 *         g = (e%128)/32), 2 high bits in qh[32*(e/128) + e%32] at bits 2g */
static void set_plane2(uint8_t *qs, int e, int v) { qs[32 * (e / 128) + e % 32] |= (uint8_t)(v << (2 * ((e % 128) / 32))); }
static void set_nib(uint8_t *qs, int e, int v) { qs[32 * (e / 64) + e % 32] |= (uint8_t)(v << ((e % 64) >= 32 ? 4 : 0)); }
static void set_hbit(uint8_t *hb, int e, int v) { if (v) hb[e % 32] |= (uint8_t)(1 << (e / 32)); }

/* Q4_K/Q5_K scale field: 6-bit sc[j], m[j] for j in 0..7 */
static void pack_k4_scales(uint8_t *s, const int *sc, const int *m)
{
    memset(s, 0, 12);
    for (int j = 0; j < 4; j++) {
        s[j] = (uint8_t)((sc[j] & 63) | (sc[j + 4] >> 4) << 6);
        s[j + 4] = (uint8_t)((m[j] & 63) | (m[j + 4] >> 4) << 6);
        s[j + 8] = (uint8_t)((sc[j + 4] & 15) | (m[j + 4] & 15) << 4);
    }
}

static void test_dequant_k_blocks(void **state)
{
    (void)state;
    uint8_t b[300];
    float y[256];
    double w[256];

    /* Q2_K: scales[16] qs[64] d dmin; sub-block k = e/16: scale nibble (k%15)+1, min nibble k%4 */
    memset(b, 0, sizeof b);
    for (int k = 0; k < 16; k++) b[k] = (uint8_t)(((k % 15) + 1) | (k % 4) << 4);
    for (int e = 0; e < 256; e++) set_plane2(b + 16, e, (e * 7 + e / 5) % 4);
    put16(b + 80, 0x3c00);  /* d = 1 */
    put16(b + 82, 0x3800);  /* dmin = 0.5 */
    for (int e = 0; e < 256; e++) w[e] = 1.0 * ((e / 16 % 15) + 1) * ((e * 7 + e / 5) % 4) - 0.5 * (e / 16 % 4);
    assert_int_equal(el_dequantize_row(EL_TYPE_Q2_K, b, y, 256), 0);
    check_close("q2_K", y, w, 256);

    /* Q3_K: hmask[32] qs[64] scales[12] d; 6-bit scale s_k: low 4 bits in byte k%8
     * (nibble k/8), high 2 bits in byte 8 + k%4 (pair k/4); value (s_k - 32) */
    memset(b, 0, sizeof b);
    int s3[16];
    for (int k = 0; k < 16; k++) s3[k] = (k * 11 + 3) % 64;
    for (int k = 0; k < 16; k++) {
        b[96 + k % 8] |= (uint8_t)((s3[k] & 15) << (4 * (k / 8)));
        b[96 + 8 + k % 4] |= (uint8_t)((s3[k] >> 4) << (2 * (k / 4)));
    }
    for (int e = 0; e < 256; e++) {
        int v = (e * 5 + e / 7) % 8 - 4; /* -4..3: low 2 bits of v+4, high bit set when v >= 0 */
        set_plane2(b + 32, e, (v + 4) & 3);
        set_hbit(b, e, v >= 0);
    }
    put16(b + 108, 0x3800); /* d = 0.5 */
    for (int e = 0; e < 256; e++) w[e] = 0.5 * (s3[e / 16] - 32) * ((e * 5 + e / 7) % 8 - 4);
    assert_int_equal(el_dequantize_row(EL_TYPE_Q3_K, b, y, 256), 0);
    check_close("q3_K", y, w, 256);

    /* Q4_K: d dmin scales[12] qs[128] */
    int sc[8], mn[8];
    for (int j = 0; j < 8; j++) { sc[j] = (j * 9 + 20) % 64; mn[j] = (63 - j * 7) % 64; }
    memset(b, 0, sizeof b);
    put16(b, 0x3800);      /* d = 0.5 */
    put16(b + 2, 0x3400);  /* dmin = 0.25 */
    pack_k4_scales(b + 4, sc, mn);
    for (int e = 0; e < 256; e++) set_nib(b + 16, e, (e * 13 + 1) % 16);
    for (int e = 0; e < 256; e++) w[e] = 0.5 * sc[e / 32] * ((e * 13 + 1) % 16) - 0.25 * mn[e / 32];
    assert_int_equal(el_dequantize_row(EL_TYPE_Q4_K, b, y, 256), 0);
    check_close("q4_K", y, w, 256);

    /* Q5_K: d dmin scales[12] qh[32] qs[128] */
    memset(b, 0, sizeof b);
    put16(b, 0x3400);      /* d = 0.25 */
    put16(b + 2, 0x3c00);  /* dmin = 1 */
    pack_k4_scales(b + 4, sc, mn);
    for (int e = 0; e < 256; e++) {
        int q = (e * 17 + 3) % 32;
        set_nib(b + 48, e, q & 15);
        set_hbit(b + 16, e, q >> 4);
    }
    for (int e = 0; e < 256; e++) w[e] = 0.25 * sc[e / 32] * ((e * 17 + 3) % 32) - 1.0 * mn[e / 32];
    assert_int_equal(el_dequantize_row(EL_TYPE_Q5_K, b, y, 256), 0);
    check_close("q5_K", y, w, 256);

    /* Q6_K: ql[128] qh[64] scales[16] (int8) d */
    memset(b, 0, sizeof b);
    int8_t s6[16];
    for (int k = 0; k < 16; k++) s6[k] = (int8_t)(k * 17 - 128);
    for (int e = 0; e < 256; e++) {
        int q = (e * 29 + 7) % 64, g = (e % 128) / 32;
        b[64 * (e / 128) + 32 * (g & 1) + e % 32] |= (uint8_t)((q & 15) << (g >= 2 ? 4 : 0));
        b[128 + 32 * (e / 128) + e % 32] |= (uint8_t)((q >> 4) << (2 * g));
    }
    memcpy(b + 192, s6, 16);
    put16(b + 208, 0x3400); /* d = 0.25 */
    for (int e = 0; e < 256; e++) w[e] = 0.25 * s6[e / 16] * ((e * 29 + 7) % 64 - 32);
    assert_int_equal(el_dequantize_row(EL_TYPE_Q6_K, b, y, 256), 0);
    check_close("q6_K", y, w, 256);

    /* Q8_K: float d, int8 qs[256], bsums */
    memset(b, 0, sizeof b);
    float d8 = 0.01f;
    memcpy(b, &d8, 4);
    for (int e = 0; e < 256; e++) b[4 + e] = (uint8_t)(int8_t)(e - 128);
    for (int e = 0; e < 256; e++) w[e] = (double)d8 * (e - 128);
    assert_int_equal(el_dequantize_row(EL_TYPE_Q8_K, b, y, 256), 0);
    check_close("q8_K", y, w, 256);
}

/* ---- quantise -> dequantise ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static double urand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}
static float gauss(void)
{
    double u = urand() + 1e-12, v = urand();
    return (float)(sqrt(-2 * log(u)) * cos(6.283185307179586 * v));
}

typedef struct {
    el_type type;
    /* max |error| allowed per block, as a fraction of the block's max |x| */
    double max_rel;
    /* RMSE allowed, as a fraction of the data's RMS (gaussian data) */
    double rmse_rel;
} qcase;

/* Error bounds from each format's quantisation step (amax = block max |x|):
 *   q8_0: step amax/127, round to nearest: amax/254, plus fp16 scale rounding
 *   q4_0: step amax/8; the value opposite the max may clip by one step
 *   q5_0: step amax/16, same; q4_1 / q5_1: step range/15, range/31 <= 2amax/15, 2amax/31, half a step
 *   q8_K: amax/254 (float scale); k-quants: 6-bit sub-block scales and the
 *   scale search leave more room: q6_K ~ amax/32, q5_K ~ amax/16, q4_K ~ amax/8.
 * RMSE bounds on N(0,1) data: 1.5 x step/sqrt(12), with the step from the
 * expected block max (|x| max of 16 / 32 / 256 gaussians ~ 2.0 / 2.4 / 3.0,
 * ranges ~ 2x that): q8_0 2.4/127 -> 0.0082, q8_K 3.0/127 -> 0.010, q4_0 2.4/8
 * -> 0.13, q4_1 4.2/15 -> 0.12, q5_0 2.4/16 -> 0.065, q5_1 4.2/31 -> 0.059,
 * q6_K 2.0/32 -> 0.027, q5_K as q5_1, q4_K as q4_1, q3_K 2.0/4 -> 0.22,
 * q2_K (range of 16 ~ 4.0)/3 -> 0.58 (max error: q3_K one step amax/4 with
 * clipping, q2_K half a step of 2amax/3, both plus 4/6-bit scale rounding);
 * f16 / bf16: relative rounding 2^-11 / 2^-8 over sqrt(3) -> 0.0005 / 0.004. */
static const qcase qcases[] = {
    {EL_TYPE_F16, 1.0 / 2048, 0.0005},    {EL_TYPE_BF16, 1.0 / 256, 0.004},
    {EL_TYPE_Q8_0, 0.6 / 127, 0.0082},    {EL_TYPE_Q8_1, 0.6 / 127, 0.0082},
    {EL_TYPE_Q4_0, 1.02 / 8, 0.13},       {EL_TYPE_Q4_1, 1.05 / 15, 0.12},
    {EL_TYPE_Q5_0, 1.02 / 16, 0.065},     {EL_TYPE_Q5_1, 1.05 / 31, 0.059},
    {EL_TYPE_Q8_K, 0.51 / 127, 0.010},    {EL_TYPE_Q6_K, 1.0 / 32, 0.027},
    {EL_TYPE_Q5_K, 1.0 / 16, 0.059},      {EL_TYPE_Q4_K, 1.0 / 8, 0.12},
    {EL_TYPE_Q3_K, 1.0 / 3, 0.22},        {EL_TYPE_Q2_K, 0.5, 0.58},
};

/* Quantise n values, dequantise, return max |err| / block amax (worst block)
 * and the RMSE. */
static void roundtrip(el_type type, const float *x, int64_t n, double *worst_rel, double *rmse)
{
    size_t sz = el_row_size(type, n);
    assert_true(sz > 0);
    uint8_t *q = malloc(sz);
    float *y = malloc((size_t)n * sizeof *y);
    assert_non_null(q);
    assert_non_null(y);
    assert_int_equal(el_quantize_row(type, x, q, n), 0);
    assert_int_equal(el_dequantize_row(type, q, y, n), 0);
    int64_t bs = el_type_info(type)->block_size;
    if (bs == 1) bs = 32; /* plain types: judge relative to each 32 values */
    double se = 0, worst = 0;
    for (int64_t b0 = 0; b0 < n; b0 += bs) {
        double amax = 0, emax = 0;
        for (int64_t i = b0; i < b0 + bs && i < n; i++) {
            amax = fmax(amax, fabs(x[i]));
            double e = fabs((double)y[i] - x[i]);
            emax = fmax(emax, e);
            se += e * e;
        }
        if (amax == 0) {
            if (emax != 0) fail_msg("%s: all-zero block decodes to non-zero (%g)", el_type_info(type)->name, emax);
            continue;
        }
        worst = fmax(worst, emax / amax);
    }
    *worst_rel = worst;
    *rmse = sqrt(se / (double)n);
    free(q);
    free(y);
}

static void test_quantize_roundtrip_random(void **state)
{
    (void)state;
    const int64_t n = 256 * 13; /* 3328: 104 legacy blocks, 13 super-blocks */
    float *x = malloc(n * sizeof *x);
    assert_non_null(x);
    const char *dists[] = {"gaussian", "uniform+offset", "outliers", "zeros+const", "tiny 1e-6"};
    printf("quantise -> dequantise, n = %lld (RMSE relative to data RMS; max error relative to block max)\n", (long long)n);
    printf("  %-6s", "type");
    for (int d = 0; d < 5; d++) printf(" %26s", dists[d]);
    printf("\n");
    for (size_t c = 0; c < sizeof qcases / sizeof qcases[0]; c++) {
        printf("  %-6s", el_type_info(qcases[c].type)->name);
        for (int d = 0; d < 5; d++) {
            double rms = 0;
            for (int64_t i = 0; i < n; i++) {
                float g = gauss();
                switch (d) {
                case 0: x[i] = g; break;
                case 1: x[i] = (float)(urand() * 2.0 + 0.5); break;
                case 2: x[i] = (i % 101 == 0) ? 30 * g : 0.1f * g; break;
                case 3: x[i] = (i / 256) % 2 ? 0.0f : ((i / 32) % 2 ? -1.75f : 2.5f); break;
                default: x[i] = 1e-6f * g; break;
                }
                rms += (double)x[i] * x[i];
            }
            rms = sqrt(rms / (double)n);
            double worst, rmse;
            roundtrip(qcases[c].type, x, n, &worst, &rmse);
            printf("   rmse %8.2e max %8.2e", rmse / rms, worst);
            /* tiny data: fp16 has only subnormals there (step 2^-24 ~ 6e-8, 2% of
             * 1e-6 values), and the formats whose block scale is fp16 (all but
             * q8_K) see that scale underflow -- a property of the formats (ggml
             * behaves the same), so only bf16 / f16 / q8_K are held to a bound */
            double allow = qcases[c].max_rel;
            if (d == 4 && qcases[c].type == EL_TYPE_F16) allow = 0.02;
            else if (d == 4 && qcases[c].type != EL_TYPE_BF16 && qcases[c].type != EL_TYPE_Q8_K) allow = INFINITY;
            if (worst > allow)
                fail_msg("%s on %s: max error %.4g of block max exceeds %.4g", el_type_info(qcases[c].type)->name,
                         dists[d], worst, allow);
            if (d == 0 && rmse / rms > qcases[c].rmse_rel)
                fail_msg("%s: relative RMSE %.4g exceeds %.4g", el_type_info(qcases[c].type)->name, rmse / rms,
                         qcases[c].rmse_rel);
        }
        printf("\n");
    }
    /* blocks at odd addresses (a file with general.alignment 1): same bytes,
     * same values as at aligned addresses */
    {
        size_t big = el_row_size(EL_TYPE_F32, 512) + 8; /* the largest of the types */
        uint8_t *qa = malloc(big), *qb = malloc(big + 1);
        float *ya = malloc(512 * sizeof *ya), *yb = malloc(512 * sizeof *yb);
        assert_true(qa && qb && ya && yb);
        for (size_t c = 0; c < sizeof qcases / sizeof qcases[0]; c++) {
            el_type t = qcases[c].type;
            size_t sz = el_row_size(t, 512);
            assert_int_equal(el_quantize_row(t, x, qa, 512), 0);
            assert_int_equal(el_quantize_row(t, x, qb + 1, 512), 0);
            assert_memory_equal(qa, qb + 1, sz);
            assert_int_equal(el_dequantize_row(t, qa, ya, 512), 0);
            assert_int_equal(el_dequantize_row(t, qb + 1, yb, 512), 0);
            assert_memory_equal(ya, yb, 512 * sizeof *ya);
        }
        printf("  misaligned (odd address) blocks: identical bytes and values for all %zu types\n",
               sizeof qcases / sizeof qcases[0]);
        free(qa); free(qb); free(ya); free(yb);
    }
    /* a constant block is exact when its scale is representable: 127/256
     * gives d = 1/256 (q8_0, q8_K), 127/2048 (q4_0), 127/4096 (q5_0) */
    for (int64_t i = 0; i < 256; i++) x[i] = 127.0f / 256;
    float y[256];
    uint8_t q[400];
    el_type exact_types[] = {EL_TYPE_Q8_0, EL_TYPE_Q4_0, EL_TYPE_Q5_0, EL_TYPE_Q8_K};
    for (size_t k = 0; k < 4; k++) {
        assert_int_equal(el_quantize_row(exact_types[k], x, q, 256), 0);
        assert_int_equal(el_dequantize_row(exact_types[k], q, y, 256), 0);
        for (int i = 0; i < 256; i++)
            if (y[i] != 127.0f / 256) fail_msg("%s: constant 127/256 -> %.9g", el_type_info(exact_types[k])->name, y[i]);
    }
    /* awkward sizes: smallest legal and refusals */
    assert_int_equal(el_quantize_row(EL_TYPE_Q4_0, x, q, 32), 0);
    assert_int_equal(el_quantize_row(EL_TYPE_Q4_K, x, q, 128), -1);
    assert_int_equal(el_quantize_row(EL_TYPE_Q2_K, x, q, 128), -1);
    assert_int_equal(el_quantize_row(EL_TYPE_IQ4_NL, x, q, 32), -1);
    assert_int_equal(el_quantize_row(EL_TYPE_F16, x, q, 3), 0);
    free(x);
}

/* Q8_0 and Q4_0 semantics spelled out: the scale is amax/127 (resp. the
 * signed max / -8) rounded to fp16, quants round to nearest. */
static void test_quantize_known_values(void **state)
{
    (void)state;
    float x[32];
    for (int i = 0; i < 32; i++) x[i] = (float)(i - 16) / 4; /* -4 .. 3.75 */
    uint8_t q[40];
    assert_int_equal(el_quantize_row(EL_TYPE_Q8_0, x, q, 32), 0);
    uint16_t d16 = (uint16_t)(q[0] | q[1] << 8);
    printf("  q8_0 of (i-16)/4: d = 0x%04x (%g; expected fp16(4/127) = 0x%04x)\n", d16, el_fp16_to_fp32(d16), F16(4.0f / 127));
    assert_int_equal(d16, F16(4.0f / 127));
    for (int i = 0; i < 32; i++) assert_int_equal((int8_t)q[2 + i], (int)lround((i - 16) / 4.0 * 127 / 4));
    assert_int_equal(el_quantize_row(EL_TYPE_Q4_0, x, q, 32), 0);
    d16 = (uint16_t)(q[0] | q[1] << 8);
    assert_int_equal(d16, F16(0.5f)); /* signed max -4 / -8 */
    /* x / 0.5 + 8 = (i-16)/2 + 8 = i/2: element i has nibble floor(i/2 + 0.5) clipped to 15 */
    for (int i = 0; i < 32; i++) {
        int nib = i < 16 ? q[2 + i] & 15 : q[2 + i - 16] >> 4;
        int want = (int)floor(i / 2.0 + 0.5);
        assert_int_equal(nib, want > 15 ? 15 : want);
    }
    printf("  q4_0 of (i-16)/4: d = 0.5, nibbles round(i/2) clipped at 15: ok\n");
}

/* ---- real tensors ---- */

static void test_stories_tensors(void **state)
{
    (void)state;
    char *path = tu_shared("data/models/stories260K.gguf");
    el_err err;
    el_gguf *g = el_gguf_open(path, &err);
    if (!g) fail_msg("%s", err.msg);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    int counts[EL_TYPE_COUNT] = {0};
    double total_sum = 0;
    uint64_t total_n = 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const el_gguf_tensor *t = &g->tensors[i];
        counts[t->type]++;
        assert_true(el_type_info(t->type)->can_dequantize);
        float *y = malloc(t->n_elements * sizeof *y), *raw = malloc(t->n_bytes);
        assert_non_null(y);
        assert_non_null(raw);
        /* path 1: the library's dequantiser over the mapping, row by row */
        for (uint64_t r = 0; r < t->n_elements / (uint64_t)t->ne[0]; r++)
            assert_int_equal(el_dequantize_row(t->type, (const uint8_t *)t->data + r * el_row_size(t->type, t->ne[0]),
                                               y + r * t->ne[0], t->ne[0]), 0);
        /* path 2: stdio read at data_offset + offset */
        assert_int_equal(fseek(f, (long)(g->data_offset + t->offset), SEEK_SET), 0);
        assert_int_equal(fread(raw, 1, t->n_bytes, f), t->n_bytes);
        assert_int_equal(t->type, EL_TYPE_F32);
        assert_memory_equal(y, raw, t->n_bytes);
        double s = 0, s2 = 0;
        for (uint64_t k = 0; k < t->n_elements; k++) {
            assert_true(isfinite(y[k]));
            s += y[k];
            s2 += (double)y[k] * y[k];
        }
        total_sum += s;
        total_n += t->n_elements;
        double mean = s / (double)t->n_elements, sd = sqrt(fmax(0, s2 / (double)t->n_elements - mean * mean));
        if (strstr(t->name, "norm")) {
            /* RMSNorm gains of a trained model: positive-centred around ~1 */
            if (i < 6 || strcmp(t->name, "output_norm.weight") == 0)
                printf("  %-26s mean %.4f sd %.4f\n", t->name, mean, sd);
            assert_true(mean > 0.2 && mean < 5);
        } else if (strcmp(t->name, "token_embd.weight") == 0 || strstr(t->name, "attn_q.weight")) {
            printf("  %-26s mean %+.5f sd %.4f\n", t->name, mean, sd);
            assert_true(fabs(mean) < 0.1 && sd > 0.01 && sd < 2);
        }
        free(y);
        free(raw);
    }
    printf("  types: f32 x %d (all tensors); %llu values, mean %.5f; two read paths identical\n", counts[EL_TYPE_F32],
           (unsigned long long)total_n, total_sum / (double)total_n);
    assert_int_equal(counts[EL_TYPE_F32], 48);

    /* quantise the real weight matrices (n_embd 64 is no multiple of 256:
     * whole tensors are quantised as one flat run) and check the bounds */
    const el_gguf_tensor *t = el_gguf_find_tensor(g, "token_embd.weight");
    assert_non_null(t);
    int64_t n = (int64_t)t->n_elements; /* 32768 */
    const float *x = t->data;
    double rms = 0;
    for (int64_t k = 0; k < n; k++) rms += (double)x[k] * x[k];
    rms = sqrt(rms / (double)n);
    printf("  token_embd.weight (%lld values) quantised:", (long long)n);
    for (size_t c = 0; c < sizeof qcases / sizeof qcases[0]; c++) {
        double worst, rmse;
        roundtrip(qcases[c].type, x, n, &worst, &rmse);
        printf(" %s %.2e", el_type_info(qcases[c].type)->name, rmse / rms);
        assert_true(worst <= qcases[c].max_rel);
        assert_true(rmse / rms <= qcases[c].rmse_rel);
    }
    printf("\n");
    fclose(f);
    el_gguf_close(g);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_traits),
        cmocka_unit_test(test_fp16_known_patterns),
        cmocka_unit_test(test_bf16),
        cmocka_unit_test(test_dequant_legacy_blocks),
        cmocka_unit_test(test_dequant_k_blocks),
        cmocka_unit_test(test_quantize_known_values),
        cmocka_unit_test(test_quantize_roundtrip_random),
        cmocka_unit_test(test_stories_tensors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
