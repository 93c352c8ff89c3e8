/* test_sampler.c -- sampling against analytic expectations. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgelm/sampler.h"

static const float L[8] = {1.0f, 3.0f, 2.0f, -1.0f, 0.5f, 3.0f, -2.0f, 0.0f};

static el_sampler *mk(float temp, int k, float p, float minp, float rep, uint64_t seed)
{
    el_sampler_params sp = {temp, k, p, minp, rep, 64, seed};
    el_err err;
    el_sampler *s = el_sampler_new(&sp, 8, &err);
    assert_non_null(s);
    return s;
}

static void test_greedy_and_top_k_1(void **state)
{
    (void)state;
    el_sampler *g = mk(0, 40, 1, 0, 1, 1);
    assert_int_equal(el_sampler_sample(g, L), 1);   /* tie 1 vs 5: lowest id */
    el_sampler_free(g);
    el_sampler *k1 = mk(1.0f, 1, 1, 0, 1, 99);
    for (int i = 0; i < 50; i++) assert_int_equal(el_sampler_sample(k1, L), 1);
    el_sampler_free(k1);
}

static void test_top_p_smallest_set(void **state)
{
    (void)state;
    el_candidate c[8];
    for (int i = 0; i < 8; i++) c[i] = (el_candidate){i, L[i], 0};
    /* softmax mass: the two 3.0 logits hold 2e^3 / Z */
    double z = 0;
    for (int i = 0; i < 8; i++) z += exp(L[i]);
    double top2 = 2 * exp(3.0) / z, top3 = top2 + exp(2.0) / z;
    int n = el_sample_top_p(c, 8, (float)(top2 - 1e-4));
    assert_int_equal(n, 2);
    for (int i = 0; i < 8; i++) c[i] = (el_candidate){i, L[i], 0};
    n = el_sample_top_p(c, 8, (float)(top2 + 1e-4));
    assert_int_equal(n, 3);
    assert_int_equal(c[2].id, 2);
    printf("# top-p: mass of best 2 = %.4f, best 3 = %.4f\n", top2, top3);
}

static void test_min_p_threshold(void **state)
{
    (void)state;
    el_candidate c[8];
    for (int i = 0; i < 8; i++) c[i] = (el_candidate){i, L[i], 0};
    /* p_i / p_max = exp(L_i - 3): keep >= 0.3 -> L_i >= 3 + ln 0.3 = 1.796: ids 1, 5, 2 */
    int n = el_sample_min_p(c, 8, 0.3f);
    assert_int_equal(n, 3);
    for (int i = 0; i < 8; i++) c[i] = (el_candidate){i, L[i], 0};
    assert_int_equal(el_sample_top_k(c, 8, 4), 4);
    assert_int_equal(c[3].id, 0);   /* 3, 3, 2, 1 */
}

static void test_repetition_penalty(void **state)
{
    (void)state;
    /* penalty 2 on token 1 (logit 3 -> 1.5) and 3 (-1 -> -2): greedy picks 5 */
    el_sampler *s = mk(0, 0, 1, 0, 2.0f, 1);
    el_sampler_accept(s, 1);
    el_sampler_accept(s, 3);
    el_sampler_accept(s, 1);
    assert_int_equal(el_sampler_sample(s, L), 5);
    el_sampler_accept(s, 5);
    assert_int_equal(el_sampler_sample(s, L), 2);   /* 1.5, 1.5 vs 2 */
    el_sampler_free(s);
}

static void test_same_seed_same_sequence(void **state)
{
    (void)state;
    el_sampler *a = mk(1.0f, 0, 1, 0, 1, 1234), *b = mk(1.0f, 0, 1, 0, 1, 1234), *c = mk(1.0f, 0, 1, 0, 1, 4321);
    int same = 1, diff = 0;
    for (int i = 0; i < 200; i++) {
        int x = el_sampler_sample(a, L), y = el_sampler_sample(b, L), z = el_sampler_sample(c, L);
        same &= x == y;
        diff += x != z;
    }
    assert_true(same);
    assert_true(diff > 0);
    el_sampler_free(a), el_sampler_free(b), el_sampler_free(c);
}

/* 200k draws at temperature 0.7 follow softmax(L / 0.7) */
static void test_distribution_matches_softmax(void **state)
{
    (void)state;
    const float t = 0.7f;
    el_sampler *s = mk(t, 0, 1, 0, 1, 77);
    long counts[8] = {0};
    const int N = 200000;
    for (int i = 0; i < N; i++) counts[el_sampler_sample(s, L)]++;
    double z = 0, worst = 0;
    for (int i = 0; i < 8; i++) z += exp(L[i] / t);
    for (int i = 0; i < 8; i++) {
        double p = exp(L[i] / t) / z, f = (double)counts[i] / N;
        double sigma = sqrt(p * (1 - p) / N);
        worst = fmax(worst, fabs(f - p) / (sigma > 0 ? sigma : 1));
        assert_true(fabs(f - p) <= 5 * sigma + 1e-6);
    }
    printf("# 200000 draws at T=0.7: worst deviation %.2f sigma from softmax\n", worst);
    el_sampler_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greedy_and_top_k_1),     cmocka_unit_test(test_top_p_smallest_set),
        cmocka_unit_test(test_min_p_threshold),        cmocka_unit_test(test_repetition_penalty),
        cmocka_unit_test(test_same_seed_same_sequence), cmocka_unit_test(test_distribution_matches_softmax),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
