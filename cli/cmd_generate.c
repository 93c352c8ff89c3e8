/* cmd_generate.c -- `edgelm generate`: stream a continuation of a prompt. */
#include "cli.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgelm/model.h"
#include "edgelm/sampler.h"

static volatile sig_atomic_t g_stop;
static void on_sigint(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void generate_usage(FILE *f)
{
    el_sampler_params d = el_sampler_default_params();
    fprintf(f,
            "usage: edgelm generate -m MODEL (-p TEXT | -f FILE) [options]\n\n"
            "Continue a prompt, printing the prompt and then each token as it is produced.\n"
            "The last line on stderr gives the measured prompt and generation speed.\n\n"
            "  -m, --model FILE        GGUF model (llama or qwen2 architecture)\n"
            "  -p, --prompt TEXT       the prompt\n"
            "  -f, --file FILE         read the prompt from a file\n"
            "  -n, --n-predict N       tokens to generate (default 128)\n"
            "  -t, --threads N         threads (default: physical cores, %d here)\n"
            "  -c, --ctx-size N        context length (default: prompt + n, at most the model's)\n"
            "  --temp T                temperature (default %.2f; 0 = greedy)\n"
            "  --top-k K               keep the K most likely tokens (default %d; 0 = off)\n"
            "  --top-p P               keep the smallest set with probability >= P (default %.2f)\n"
            "  --min-p P               drop tokens below P x the best one's probability (default %.2f)\n"
            "  --repeat-penalty R      penalise the last N tokens (default %.2f = off)\n"
            "  --repeat-last-n N       window of the penalty (default %d)\n"
            "  -s, --seed S            random seed (default: from the clock, printed on stderr)\n"
            "  --no-bos                do not add the beginning-of-sequence token\n"
            "  --ignore-eos            keep going after an end-of-generation token\n"
            "  --kv-f32                F32 KV cache (default F16 like llama.cpp)\n"
            "  --no-flash-attn         plain softmax attention (default: llama.cpp's flash-attention numerics)\n"
            "  --no-echo               print only the continuation\n",
            cli_default_threads(), d.temp, d.top_k, d.top_p, d.min_p, d.repeat_penalty, d.repeat_last_n);
}

static char *read_text_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (n + 1 == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) free(buf);
            buf = nb;
        }
    }
    fclose(f);
    if (buf) buf[n] = 0, *len = n;
    return buf;
}

int cmd_generate(int argc, char **argv)
{
    const char *cmd = "generate", *model = NULL, *prompt = NULL, *prompt_file = NULL;
    long long n_predict = 128, threads = cli_default_threads(), n_ctx = 0, top_k, last_n, seed = -1;
    double temp, top_p, min_p, rep;
    el_sampler_params sp = el_sampler_default_params();
    temp = sp.temp, top_k = sp.top_k, top_p = sp.top_p, min_p = sp.min_p, rep = sp.repeat_penalty, last_n = sp.repeat_last_n;
    bool add_bos = true, ignore_eos = false, kv_f32 = false, flash = true, echo = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
#define VAL() if (!(v = cli_value(cmd, argc, argv, &i))) return 2
        if (cli_is(a, "-h", "--help")) {
            generate_usage(stdout);
            return 0;
        } else if (cli_is(a, "-m", "--model")) {
            VAL();
            model = v;
        } else if (cli_is(a, "-p", "--prompt")) {
            VAL();
            prompt = v;
        } else if (cli_is(a, "-f", "--file")) {
            VAL();
            prompt_file = v;
        } else if (cli_is(a, "-n", "--n-predict")) {
            VAL();
            if (cli_int(cmd, a, v, 0, 1 << 24, &n_predict)) return 2;
        } else if (cli_is(a, "-t", "--threads")) {
            VAL();
            if (cli_int(cmd, a, v, 1, 1024, &threads)) return 2;
        } else if (cli_is(a, "-c", "--ctx-size")) {
            VAL();
            if (cli_int(cmd, a, v, 1, 1 << 20, &n_ctx)) return 2;
        } else if (cli_is(a, "--temp", NULL)) {
            VAL();
            if (cli_float(cmd, a, v, 0, 100, &temp)) return 2;
        } else if (cli_is(a, "--top-k", NULL)) {
            VAL();
            if (cli_int(cmd, a, v, 0, 1 << 24, &top_k)) return 2;
        } else if (cli_is(a, "--top-p", NULL)) {
            VAL();
            if (cli_float(cmd, a, v, 0, 1, &top_p)) return 2;
        } else if (cli_is(a, "--min-p", NULL)) {
            VAL();
            if (cli_float(cmd, a, v, 0, 1, &min_p)) return 2;
        } else if (cli_is(a, "--repeat-penalty", NULL)) {
            VAL();
            if (cli_float(cmd, a, v, 0.01, 100, &rep)) return 2;
        } else if (cli_is(a, "--repeat-last-n", NULL)) {
            VAL();
            if (cli_int(cmd, a, v, 0, 1 << 20, &last_n)) return 2;
        } else if (cli_is(a, "-s", "--seed")) {
            VAL();
            if (cli_int(cmd, a, v, 0, (long long)1 << 62, &seed)) return 2;
        } else if (cli_is(a, "--no-bos", NULL)) {
            add_bos = false;
        } else if (cli_is(a, "--ignore-eos", NULL)) {
            ignore_eos = true;
        } else if (cli_is(a, "--kv-f32", NULL)) {
            kv_f32 = true;
        } else if (cli_is(a, "--no-flash-attn", NULL)) {
            flash = false;
        } else if (cli_is(a, "--no-echo", NULL)) {
            echo = false;
        } else {
            return cli_unknown(cmd, a);
        }
#undef VAL
    }
    if (!model) return cli_missing(cmd, "-m MODEL");
    if (!prompt && !prompt_file) return cli_missing(cmd, "-p TEXT or -f FILE");
    if (prompt && prompt_file) {
        cli_error(cmd, "give either -p or -f, not both");
        return 2;
    }

    int rc = 1;
    el_err err;
    el_model *m = NULL;
    el_context *c = NULL;
    el_sampler *smp = NULL;
    int32_t *toks = NULL;
    char *file_text = NULL;
    size_t plen = 0;
    if (prompt_file) {
        file_text = read_text_file(prompt_file, &plen);
        if (!file_text) {
            cli_error(cmd, "%s: cannot read the prompt file", prompt_file);
            return 1;
        }
        prompt = file_text;
    } else {
        plen = strlen(prompt);
    }
    double t_load = el_now();
    m = el_model_load(model, &err);
    if (!m) {
        cli_error(cmd, "%s", err.msg);
        goto done;
    }
    t_load = el_now() - t_load;
    if (el_model_is_synthetic(m))
        fprintf(stderr, "WARNING: %s is a SYNTHETIC model (random weights, made by edgelm synth): "
                        "its text is noise, use it for speed and memory only\n", model);
    const el_tokenizer *tok = el_model_tokenizer(m);
    const el_hparams *hp = el_model_hparams(m);
    int64_t np = el_tokenize(tok, prompt, plen, add_bos, true, NULL, 0, &err);
    if (np < 0) {
        cli_error(cmd, "%s", err.msg);
        goto done;
    }
    if (np == 0) {
        cli_error(cmd, "the prompt is empty after tokenization (and no BOS token is added)");
        goto done;
    }
    if (!n_ctx) {
        n_ctx = np + n_predict;
        if (n_ctx > hp->n_ctx_train) n_ctx = hp->n_ctx_train > np + 1 ? hp->n_ctx_train : np + 1;
    }
    if (np >= n_ctx) {
        cli_error(cmd, "the prompt has %lld tokens, more than the context of %lld (use a larger -c)", (long long)np,
                  n_ctx);
        rc = 2;
        goto done;
    }
    toks = malloc((size_t)(np + 1) * sizeof *toks);
    if (!toks || el_tokenize(tok, prompt, plen, add_bos, true, toks, np, &err) != np) {
        cli_error(cmd, "tokenizing the prompt failed");
        goto done;
    }
    el_context_params cp = {(int)n_ctx, (int)threads, kv_f32 ? EL_TYPE_F32 : EL_TYPE_F16, flash};
    c = el_context_new_ex(m, &cp, &err);
    if (!c) {
        cli_error(cmd, "%s", err.msg);
        goto done;
    }
    if (seed < 0) seed = (long long)(((uint64_t)time(NULL) * 2654435761u) ^ (uint64_t)clock()) & 0x3fffffff;
    sp = (el_sampler_params){(float)temp, (int32_t)top_k, (float)top_p, (float)min_p, (float)rep, (int32_t)last_n,
                             (uint64_t)seed};
    smp = el_sampler_new(&sp, hp->n_vocab, &err);
    if (!smp) {
        cli_error(cmd, "%s", err.msg);
        goto done;
    }
    for (int64_t i = 0; i < np; i++) el_sampler_accept(smp, toks[i]);
    if (temp > 0) fprintf(stderr, "seed %lld\n", seed);
    if (echo) {
        fwrite(prompt, 1, plen, stdout);
        fflush(stdout);
    }

    signal(SIGINT, on_sigint);
    double t0 = el_now();
    if (el_decode(c, toks, (int)np, 0, false, &err)) {
        cli_error(cmd, "%s", err.msg);
        goto done;
    }
    double t_prompt = el_now() - t0;
    double t_gen = 0;
    int n_gen = 0, pos = (int)np;
    char piece[512];
    while (n_gen < n_predict && !g_stop) {
        int32_t next = el_sampler_sample(smp, el_get_logits(c, -1));
        if (!ignore_eos && el_tokenizer_is_eog(tok, next)) break;
        int len = el_token_to_piece(tok, next, false, piece, sizeof piece);
        if (len > 0 && (size_t)len <= sizeof piece) fwrite(piece, 1, (size_t)len, stdout);
        fflush(stdout);
        el_sampler_accept(smp, next);
        n_gen++;
        if (n_gen >= n_predict) break;
        if (pos + 1 > n_ctx) {
            fprintf(stderr, "\n(context of %lld tokens is full)\n", n_ctx);
            break;
        }
        double t1 = el_now();
        if (el_decode(c, &next, 1, pos, false, &err)) {
            cli_error(cmd, "%s", err.msg);
            goto done;
        }
        t_gen += el_now() - t1;
        pos++;
    }
    printf("\n");
    fflush(stdout);
    /* generation speed counts the decode steps that were timed (the first
     * token comes from the prompt pass) */
    int timed = n_gen > 1 ? n_gen - 1 : 0;
    fprintf(stderr, "load: %.2f s | prompt: %lld tokens, %.1f t/s | generation: %d tokens, %.1f t/s (measured, %lld thread%s)\n",
            t_load, (long long)np, np / (t_prompt > 0 ? t_prompt : 1e-9), n_gen,
            timed ? timed / (t_gen > 0 ? t_gen : 1e-9) : 0.0, threads, threads == 1 ? "" : "s");
    rc = g_stop ? 130 : 0;
done:
    el_sampler_free(smp);
    el_context_free(c);
    el_model_free(m);
    free(toks);
    free(file_text);
    return rc;
}
