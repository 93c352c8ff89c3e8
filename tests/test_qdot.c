/* test_qdot.c -- every integer kernel on every ISA this CPU has, against the
 * float reference: weights decoded with el_dequantize_row, activations kept
 * in float, dot in double. The gap allowed is what quantising the
 * activations to 8 bits costs (relative to sum |w||x|), and the SIMD paths
 * must agree with the scalar one up to float rounding. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgelm/types.h"
#include "model/qdot.h"

static uint64_t rs = 88172645463325252ull;
static float frand(void)
{
    rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
    return (float)((double)(rs >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static void test_kernels_vs_float_reference(void **state)
{
    (void)state;
    const el_type types[] = {EL_TYPE_Q8_0, EL_TYPE_Q4_0, EL_TYPE_Q5_0, EL_TYPE_Q4_K, EL_TYPE_Q6_K};
    const int64_t sizes[] = {256, 512, 1536, 2304};
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
            for (int64_t i = 0; i < n; i++) w[i] = frand() * (i % 7 == 0 ? 3.0f : 1.0f);
            for (int64_t i = 0; i < 4 * n; i++) x[i] = frand() * (i % 5 == 0 ? 4.0f : 1.0f);
            assert_int_equal(el_quantize_row(t, w, wq, n), 0);
            assert_int_equal(el_dequantize_row(t, wq, wd, n), 0);
            for (int r = 0; r < 4; r++) el_qdot_quantize_act(t, x + r * n, aq + r * ar, n);
            float scalar_out[4];
            el_qdot_get(t, EL_ISA_SCALAR)(n, wq, aq, ar, 4, scalar_out);
            for (int isa = 0; isa <= (int)best; isa++) {
                el_qdot_fn fn = el_qdot_get(t, (el_qdot_isa)isa);
                if (!fn) continue;   /* an ISA of the other architecture */
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
                    }
                }
            }
            free(w), free(wd), free(x), free(wq), free(aq);
        }
        printf("# %-5s max |err| / sum|w x|: scalar %.2e, avx2 %.2e, vnni %.2e, neon %.2e; SIMD vs scalar %.1e\n",
               el_type_info(t)->name, worst[0], worst[1], worst[2], worst[3], worst_vs_scalar);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernels_vs_float_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
