/* sampler.c -- the sampling chain (see sampler.h). */
#include "edgelm/sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct el_sampler {
    el_sampler_params p;
    int32_t n_vocab;
    el_candidate *cand;
    int32_t *hist;      /* ring of the last repeat_last_n tokens */
    int32_t n_hist, hist_pos;
    uint8_t *seen;      /* n_vocab flags, scratch for the penalty */
    uint64_t rng[4];
};

el_sampler_params el_sampler_default_params(void)
{
    el_sampler_params p = {0.8f, 40, 0.95f, 0.05f, 1.0f, 64, 0xed9e1a5eedULL};
    return p;
}

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline uint64_t rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* xoshiro256**: uniform double in [0, 1) */
static double next_uniform(uint64_t *s)
{
    uint64_t r = rotl64(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0], s[3] ^= s[1], s[1] ^= s[2], s[0] ^= s[3], s[2] ^= t, s[3] = rotl64(s[3], 45);
    return (double)(r >> 11) * 0x1.0p-53;
}

el_sampler *el_sampler_new(const el_sampler_params *p, int32_t n_vocab, el_err *err)
{
    if (n_vocab <= 0) {
        el_errf(err, "sampler: vocabulary size %d", n_vocab);
        return NULL;
    }
    el_sampler *s = el_calloc(1, sizeof *s, err);
    if (!s) return NULL;
    s->p = *p;
    if (s->p.repeat_last_n < 0) s->p.repeat_last_n = 0;
    s->n_vocab = n_vocab;
    s->cand = el_calloc((size_t)n_vocab, sizeof *s->cand, err);
    s->seen = el_calloc((size_t)n_vocab, 1, err);
    s->hist = el_calloc((size_t)(s->p.repeat_last_n > 0 ? s->p.repeat_last_n : 1), sizeof *s->hist, err);
    if (!s->cand || !s->seen || !s->hist) {
        el_sampler_free(s);
        return NULL;
    }
    uint64_t x = p->seed;
    for (int i = 0; i < 4; i++) s->rng[i] = splitmix(&x);
    return s;
}

void el_sampler_free(el_sampler *s)
{
    if (!s) return;
    free(s->cand), free(s->seen), free(s->hist);
    free(s);
}

void el_sampler_accept(el_sampler *s, int32_t token)
{
    if (s->p.repeat_last_n <= 0) return;
    s->hist[s->hist_pos] = token;
    s->hist_pos = (s->hist_pos + 1) % s->p.repeat_last_n;
    if (s->n_hist < s->p.repeat_last_n) s->n_hist++;
}

static int by_logit_desc(const void *a, const void *b)
{
    const el_candidate *x = a, *y = b;
    if (x->logit > y->logit) return -1;
    if (x->logit < y->logit) return 1;
    return x->id - y->id;
}

static void sort_desc(el_candidate *c, int32_t n) { qsort(c, (size_t)n, sizeof *c, by_logit_desc); }

void el_sample_softmax(el_candidate *c, int32_t n)
{
    float mx = -INFINITY;
    for (int32_t i = 0; i < n; i++) mx = fmaxf(mx, c[i].logit);
    double sum = 0;
    for (int32_t i = 0; i < n; i++) {
        c[i].p = expf(c[i].logit - mx);
        sum += c[i].p;
    }
    for (int32_t i = 0; i < n; i++) c[i].p = (float)(c[i].p / sum);
}

static void swap_c(el_candidate *a, el_candidate *b)
{
    el_candidate t = *a;
    *a = *b;
    *b = t;
}

/* Move the k best candidates (by_logit_desc order) to the front, in O(n). */
static void select_top(el_candidate *c, int32_t n, int32_t k)
{
    int32_t lo = 0, hi = n - 1;
    uint32_t state = 2463534242u;
    while (lo < hi) {
        state ^= state << 13, state ^= state >> 17, state ^= state << 5;
        swap_c(&c[lo + (int32_t)(state % (uint32_t)(hi - lo + 1))], &c[hi]);
        int32_t store = lo;
        for (int32_t i = lo; i < hi; i++)
            if (by_logit_desc(&c[i], &c[hi]) < 0) swap_c(&c[i], &c[store++]);
        swap_c(&c[store], &c[hi]);
        if (store == k - 1 || store == k) return;
        if (store < k) lo = store + 1;
        else hi = store - 1;
    }
}

int32_t el_sample_top_k(el_candidate *c, int32_t n, int32_t k)
{
    if (k > 0 && k < n) {
        select_top(c, n, k);
        n = k;
    }
    sort_desc(c, n);
    return n;
}

int32_t el_sample_top_p(el_candidate *c, int32_t n, float p)
{
    sort_desc(c, n);
    if (p >= 1.0f) return n;
    el_sample_softmax(c, n);
    double cum = 0;
    for (int32_t i = 0; i < n; i++) {
        cum += c[i].p;
        if (cum >= p) return i + 1;   /* the smallest prefix whose mass reaches p */
    }
    return n;
}

int32_t el_sample_min_p(el_candidate *c, int32_t n, float p)
{
    sort_desc(c, n);
    if (p <= 0.0f || n == 0) return n;
    /* keep tokens with probability >= p * max probability, i.e. logit >= max + log(p) */
    float threshold = c[0].logit + logf(p);
    int32_t keep = 1;
    while (keep < n && c[keep].logit >= threshold) keep++;
    return keep;
}

int32_t el_sampler_sample(el_sampler *s, const float *logits)
{
    int32_t n = s->n_vocab;
    el_candidate *c = s->cand;
    for (int32_t i = 0; i < n; i++) c[i] = (el_candidate){i, logits[i], 0};
    /* repetition penalty, once per distinct token in the window (llama.cpp's rule) */
    if (s->p.repeat_penalty != 1.0f && s->n_hist > 0) {
        for (int32_t i = 0; i < s->n_hist; i++) {
            int32_t t = s->hist[i];
            if (t < 0 || t >= n || s->seen[t]) continue;
            s->seen[t] = 1;
            c[t].logit = c[t].logit > 0 ? c[t].logit / s->p.repeat_penalty : c[t].logit * s->p.repeat_penalty;
        }
        for (int32_t i = 0; i < s->n_hist; i++)
            if (s->hist[i] >= 0 && s->hist[i] < n) s->seen[s->hist[i]] = 0;
    }
    if (s->p.temp <= 0.0f) {
        int32_t best = 0;
        for (int32_t i = 1; i < n; i++)
            if (c[i].logit > c[best].logit) best = i;
        return best;
    }
    int32_t m = el_sample_top_k(c, n, s->p.top_k);
    m = el_sample_top_p(c, m, s->p.top_p);
    m = el_sample_min_p(c, m, s->p.min_p);
    for (int32_t i = 0; i < m; i++) c[i].logit /= s->p.temp;
    el_sample_softmax(c, m);
    double u = next_uniform(s->rng), cum = 0;
    for (int32_t i = 0; i < m; i++) {
        cum += c[i].p;
        if (u < cum) return c[i].id;
    }
    return c[m - 1].id;
}
