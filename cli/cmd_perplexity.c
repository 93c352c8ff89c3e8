/* cmd_perplexity.c -- `edgelm perplexity`: llama-perplexity's measure, so
 * users can put our numbers next to theirs. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "edgelm/model.h"

static void ppl_usage(FILE *f)
{
    fprintf(f,
            "usage: edgelm perplexity -m MODEL -f FILE -c CTX [--chunks K] [-t N] [--json]\n\n"
            "Perplexity as llama-perplexity defines it: FILE is tokenised once (with BOS when the\n"
            "vocabulary adds one) and cut into chunks of CTX tokens whose first token is set to BOS;\n"
            "in each chunk the logits at positions CTX/2 .. CTX-2 are scored against the next token.\n"
            "PPL = exp(mean NLL) +/- its standard error. Running estimates print as [chunk]PPL.\n\n"
            "  -m, --model FILE     GGUF model\n"
            "  -f, --file FILE      text file\n"
            "  -c, --ctx-size N     chunk length (default 512)\n"
            "  --chunks K           at most K chunks (default: all)\n"
            "  -t, --threads N      threads (default %d)\n"
            "  --kv-f32             F32 KV cache (default F16 like llama.cpp)\n"
            "  --no-flash-attn      plain softmax attention\n"
            "  --json               print the result as JSON on stdout\n",
            cli_default_threads());
}

static void progress(void *ud, int chunk, int n_chunks, double ppl)
{
    (void)n_chunks;
    if (*(bool *)ud) return;
    fprintf(stderr, "[%d]%.4f,", chunk, ppl);
    fflush(stderr);
}

int cmd_perplexity(int argc, char **argv)
{
    const char *cmd = "perplexity", *model = NULL, *file = NULL;
    long long n_ctx = 512, chunks = 0, threads = cli_default_threads();
    bool json = false, kv_f32 = false, flash = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (cli_is(a, "-h", "--help")) {
            ppl_usage(stdout);
            return 0;
        } else if (cli_is(a, "-m", "--model")) {
            if (!(model = cli_value(cmd, argc, argv, &i))) return 2;
        } else if (cli_is(a, "-f", "--file")) {
            if (!(file = cli_value(cmd, argc, argv, &i))) return 2;
        } else if (cli_is(a, "-c", "--ctx-size")) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || cli_int(cmd, a, v, 4, 1 << 20, &n_ctx)) return 2;
        } else if (cli_is(a, "--chunks", NULL)) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || cli_int(cmd, a, v, 1, 1 << 30, &chunks)) return 2;
        } else if (cli_is(a, "-t", "--threads")) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || cli_int(cmd, a, v, 1, 1024, &threads)) return 2;
        } else if (cli_is(a, "--json", NULL)) {
            json = true;
        } else if (cli_is(a, "--kv-f32", NULL)) {
            kv_f32 = true;
        } else if (cli_is(a, "--no-flash-attn", NULL)) {
            flash = false;
        } else {
            return cli_unknown(cmd, a);
        }
    }
    if (!model) return cli_missing(cmd, "-m MODEL");
    if (!file) return cli_missing(cmd, "-f FILE");
    int rc = 1;
    el_err err;
    el_model *m = NULL;
    el_context *c = NULL;
    int32_t *toks = NULL;
    char *text = NULL;
    FILE *f = fopen(file, "rb");
    if (!f) {
        cli_error(cmd, "%s: cannot open", file);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    text = malloc(len > 0 ? (size_t)len + 1 : 1);
    size_t got = text ? fread(text, 1, (size_t)(len > 0 ? len : 0), f) : 0;
    fclose(f);
    if (!text || (long)got != len) {
        cli_error(cmd, "%s: cannot read", file);
        goto done;
    }
    m = el_model_load(model, &err);
    if (!m) {
        cli_error(cmd, "%s", err.msg);
        goto done;
    }
    if (el_model_is_synthetic(m))
        fprintf(stderr, "WARNING: %s is a SYNTHETIC model (random weights): its perplexity means nothing\n", model);
    const el_tokenizer *tok = el_model_tokenizer(m);
    int64_t n = el_tokenize(tok, text, got, true, false, NULL, 0, &err);
    if (n < 0 || !(toks = malloc((size_t)(n > 0 ? n : 1) * sizeof *toks)) ||
        el_tokenize(tok, text, got, true, false, toks, n, &err) != n) {
        cli_error(cmd, "%s: tokenizing failed: %s", file, n < 0 ? err.msg : "out of memory");
        goto done;
    }
    if (n < 2 * n_ctx) {
        cli_error(cmd, "%s: %lld tokens; at least 2 x ctx = %lld are needed (like llama-perplexity)", file,
                  (long long)n, 2 * n_ctx);
        goto done;
    }
    el_context_params cp = {(int)n_ctx, (int)threads, kv_f32 ? EL_TYPE_F32 : EL_TYPE_F16, flash};
    c = el_context_new_ex(m, &cp, &err);
    if (!c) {
        cli_error(cmd, "%s", err.msg);
        goto done;
    }
    if (!json)
        fprintf(stderr, "perplexity: %lld tokens, %lld chunks of %lld\n", (long long)n,
                chunks && chunks < n / n_ctx ? chunks : n / n_ctx, n_ctx);
    el_ppl_result r;
    double t0 = el_now();
    if (el_perplexity(c, toks, n, (int)n_ctx, (int)chunks, progress, &json, &r, &err)) {
        cli_error(cmd, "%s", err.msg);
        goto done;
    }
    double dt = el_now() - t0;
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", model);
        cJSON_AddStringToObject(o, "file", file);
        cJSON_AddNumberToObject(o, "ctx", (double)n_ctx);
        cJSON_AddNumberToObject(o, "chunks", r.chunks);
        cJSON_AddNumberToObject(o, "tokens", (double)n);
        cJSON_AddNumberToObject(o, "scored", (double)r.count);
        cJSON_AddNumberToObject(o, "ppl", r.ppl);
        cJSON_AddNumberToObject(o, "ppl_stderr", r.ppl_err);
        cJSON_AddNumberToObject(o, "mean_nll", r.mean_nll);
        cJSON_AddNumberToObject(o, "seconds", dt);
        char *s = cJSON_Print(o);
        if (s) puts(s);
        cJSON_free(s);
        cJSON_Delete(o);
    } else {
        fprintf(stderr, "\n");
        printf("Final estimate: PPL = %.4f +/- %.5f\n", r.ppl, r.ppl_err);
        fprintf(stderr, "%d chunks, %lld predictions scored, %.2f s (%.1f tokens/s, measured)\n", r.chunks,
                (long long)r.count, dt, r.chunks * (double)n_ctx / dt);
    }
    rc = 0;
done:
    el_context_free(c);
    el_model_free(m);
    free(toks);
    free(text);
    return rc;
}
