/* test_vexpf.c -- el_vexpf against the C library's expf, bit for bit.
 *
 * The vector path repeats glibc's expf operation by operation (vexpf.h); the
 * reference here is the library's own expf on the same argument. Every float
 * of [-104, 0] (the softmax range: 1.12 billion arguments, ~6 s), then the
 * arguments the vector path hands back to the library (above 0, below its
 * range, infinities, NaN) in every lane and tail length. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgelm/threads.h"
#include "model/vexpf.h"

static float from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* number of arguments in xs[0..n) whose el_vexpf differs from expf; prints the first few */
static long count_diff(const float *xs, float *ys, int n, long *shown)
{
    el_vexpf(xs, ys, n);
    long bad = 0;
    for (int i = 0; i < n; i++) {
        float e = expf(xs[i]);
        if (memcmp(&e, &ys[i], sizeof e)) {
            if ((*shown)++ < 5) printf("# expf(%a): library %a, el_vexpf %a\n", (double)xs[i], (double)e, (double)ys[i]);
            bad++;
        }
    }
    return bad;
}

static void test_softmax_range(void **state)
{
    (void)state;
    uint32_t step = 1;
    enum { B = 1 << 20 };
    float *xs = malloc(B * sizeof *xs), *ys = malloc(B * sizeof *ys);
    assert_non_null(xs), assert_non_null(ys);
    uint32_t lo = 0xc2d00000u;   /* -104.0f: below it expf is 0 */
    long bad = 0, shown = 0, n = 0;
    int k = 0;
    for (uint64_t u = 0x80000000u; u <= lo; u += step) {
        xs[k++] = from_bits((uint32_t)u);
        if (k == B) bad += count_diff(xs, ys, k, &shown), n += k, k = 0;
    }
    bad += count_diff(xs, ys, k, &shown), n += k;
    printf("# el_vexpf (%s path) against expf on every float in [-104, 0] (%ld arguments): %ld differ\n",
           el_vexpf_exact() ? "AVX-512" : "C library", n, bad);
    assert_int_equal(bad, 0);
#if defined(__x86_64__) && defined(__GLIBC__)
    /* glibc's expf is the algorithm the vector path repeats: it must be in use */
    if (el_cpu()->avx512f) assert_true(el_vexpf_exact());
#endif
    free(xs), free(ys);
}

static void test_edges_and_tails(void **state)
{
    (void)state;
    float sp[] = {0.0f, -0.0f, -INFINITY, INFINITY, NAN, -NAN, 1.0f, 88.0f, 88.7f, 89.0f, -87.5f, -103.0f, -103.9f,
                  -103.97f, -103.98f, -104.0f, -150.0f, -1e30f, 1e-40f, -1e-40f, -1e-45f, from_bits(0x80800000u),
                  -0x1.f8cbb2p+5f, 0.5f, -0.5f};
    int ns = (int)(sizeof sp / sizeof sp[0]);
    float xs[64], ys[64];
    long bad = 0, shown = 0;
    /* every special value in every lane position and with every tail length */
    for (int len = 0; len <= 17; len++)
        for (int s = 0; s < ns; s++)
            for (int at = 0; at < len; at++) {
                for (int i = 0; i < len; i++) xs[i] = -0.25f * (float)i;
                xs[at] = sp[s];
                el_vexpf(xs, ys, len);
                for (int i = 0; i < len; i++) {
                    float e = expf(xs[i]);
                    bool same = isnan(e) ? isnan(ys[i]) : !memcmp(&e, &ys[i], sizeof e);
                    if (!same && shown++ < 5)
                        printf("# expf(%a) at %d of %d: library %a, el_vexpf %a\n", (double)xs[i], i, len, (double)e, (double)ys[i]);
                    bad += !same;
                }
            }
    (void)count_diff;
    printf("# special arguments (0, infinities, NaN, overflow, underflow, denormals) in every lane and tail length: %ld differ\n", bad);
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_softmax_range),
        cmocka_unit_test(test_edges_and_tails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
