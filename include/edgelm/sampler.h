/* sampler.h -- choosing the next token from logits.
 *
 * The chain is llama.cpp's default order: repetition penalty over the last
 * N tokens -> top-k -> top-p -> min-p -> temperature -> a draw from the
 * softmax with a seeded generator (same seed, same text). temp <= 0 is
 * greedy: the arg-max after the penalty (lowest id on ties). */
#ifndef EDGELM_SAMPLER_H
#define EDGELM_SAMPLER_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct el_sampler_params {
    float temp;            /* 0.8; <= 0: greedy */
    int32_t top_k;         /* 40; <= 0: off */
    float top_p;           /* 0.95; >= 1: off */
    float min_p;           /* 0.05; <= 0: off */
    float repeat_penalty;  /* 1.0 = off */
    int32_t repeat_last_n; /* 64 */
    uint64_t seed;
} el_sampler_params;

el_sampler_params el_sampler_default_params(void);

typedef struct el_sampler el_sampler;

el_sampler *el_sampler_new(const el_sampler_params *p, int32_t n_vocab, el_err *err);
void el_sampler_free(el_sampler *s);
/* Remember a token of the context (prompt or generated) for the penalty. */
void el_sampler_accept(el_sampler *s, int32_t token);
/* The next token for these logits (n_vocab floats, not modified). */
int32_t el_sampler_sample(el_sampler *s, const float *logits);

/* Building blocks, exposed for tests. Candidates are (id, logit) pairs. */
typedef struct el_candidate {
    int32_t id;
    float logit;
    float p;
} el_candidate;
/* Each returns the new candidate count; candidates end sorted by logit (desc). */
int32_t el_sample_top_k(el_candidate *c, int32_t n, int32_t k);
int32_t el_sample_top_p(el_candidate *c, int32_t n, float p);
int32_t el_sample_min_p(el_candidate *c, int32_t n, float p);
/* softmax of the candidates' logits into .p */
void el_sample_softmax(el_candidate *c, int32_t n);

#ifdef __cplusplus
}
#endif
#endif
