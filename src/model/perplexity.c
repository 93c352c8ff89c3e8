/* perplexity.c -- llama-perplexity's measure on a token sequence. */
#include "model_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* -log softmax(logits)[target], in double */
static double nll_of(const float *logits, int n_vocab, int32_t target)
{
    float mx = logits[0];
    for (int v = 1; v < n_vocab; v++) mx = logits[v] > mx ? logits[v] : mx;
    double sum = 0;
    for (int v = 0; v < n_vocab; v++) sum += exp((double)logits[v] - mx);
    return -((double)logits[target] - mx - log(sum));
}

int el_perplexity(el_context *c, const int32_t *tokens, int64_t n_tokens, int n_ctx, int max_chunks,
                  el_ppl_progress cb, void *ud, el_ppl_result *out, el_err *err)
{
    memset(out, 0, sizeof *out);
    if (n_ctx < 4) return el_errf(err, "perplexity: context %d is too small (at least 4)", n_ctx);
    if (n_ctx > el_context_n_ctx(c))
        return el_errf(err, "perplexity: chunk of %d tokens exceeds the context's %d", n_ctx, el_context_n_ctx(c));
    int64_t available = n_tokens / n_ctx;
    if (available < 1)
        return el_errf(err, "perplexity: the text has %lld tokens, fewer than one chunk of %d", (long long)n_tokens, n_ctx);
    int n_chunks = max_chunks > 0 && max_chunks < available ? max_chunks : (int)available;
    const el_model *m = el_context_model(c);
    const el_tokenizer *tok = el_model_tokenizer(m);
    int32_t bos = el_tokenizer_adds_bos(tok) ? el_tokenizer_bos(tok) : -1;
    int n_vocab = el_model_hparams(m)->n_vocab;
    int32_t *chunk = malloc((size_t)n_ctx * sizeof *chunk);
    if (!chunk) return el_errf(err, "out of memory");
    double nll = 0, nll2 = 0;
    int64_t count = 0;
    int first = n_ctx / 2;
    for (int ch = 0; ch < n_chunks; ch++) {
        memcpy(chunk, tokens + (int64_t)ch * n_ctx, (size_t)n_ctx * sizeof *chunk);
        if (bos >= 0) chunk[0] = bos;
        el_context_reset(c);
        if (el_decode(c, chunk, n_ctx, 0, true, err)) {
            free(chunk);
            return el_err_prefix(err, "perplexity: chunk %d", ch + 1);
        }
        for (int j = first; j < n_ctx - 1; j++) {
            double v = nll_of(el_get_logits(c, j), n_vocab, chunk[j + 1]);
            nll += v;
            nll2 += v * v;
            count++;
        }
        out->chunks = ch + 1;
        if (cb) cb(ud, ch + 1, n_chunks, exp(nll / (double)count));
    }
    free(chunk);
    double mean = nll / (double)count, mean2 = nll2 / (double)count;
    out->count = count;
    out->mean_nll = mean;
    out->ppl = exp(mean);
    double var = mean2 - mean * mean;
    out->ppl_err = var > 0 && count > 1 ? sqrt(var / (double)(count - 1)) * out->ppl : 0;
    return 0;
}
