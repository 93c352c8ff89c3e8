/* cmd_bench.c -- `edgelm bench`: llama-bench's method and columns.
 *
 * For each model, thread count and test (ppN: a prompt of N tokens in one
 * batch; tgN: N tokens decoded one at a time), a warm-up run, then -r timed
 * repetitions with an empty KV cache each; tokens are random ids (BOS first),
 * so tokenisation and sampling are not timed. Reported: t/s mean +- standard
 * deviation over repetitions, peak resident memory, and for decode the share
 * of the bandwidth roofline: (weight bytes read per token x t/s) / measured
 * read bandwidth. The bandwidth is read (as `edgelm membw`'s read kernel) in
 * a probe process right before and after every generation repetition, and a
 * repetition is compared with the higher of its two readings: a shared
 * machine's bandwidth moves between minutes, so one figure taken at the
 * start can flatter or wrong every test after it. */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "edgelm/bench.h"
#include "edgelm/model.h"

#define MAX_LIST 16

typedef struct bench_row {
    const char *model_path;
    char model[96];
    double size_gib, params;
    int threads;
    char test[32];
    int n_prompt, n_gen, n_depth;
    double mean, sd;        /* tokens per second */
    double samples[64];
    int reps;
    double peak_rss_mib;
    double roofline_share;  /* decode only, else < 0 */
    double bytes_per_token;    /* weights read per token */
    double kv_bytes_per_token; /* K/V rows read per token, averaged over the test's positions */
    double rep_gbs[64];     /* the bandwidth each repetition is compared with */
    bool synthetic;
    char kernels[128];
} bench_row;

static void bench_usage(FILE *f)
{
    fprintf(f,
            "usage: edgelm bench -m MODEL [-m MODEL ...] [-p 512] [-n 128] [-d 0] [-t %d] [-r 5] [-o md|csv|json|jsonl]\n\n"
            "Measure prompt processing (ppN) and generation (tgN) speed the way llama-bench does:\n"
            "a warm-up run, then R repetitions, each from an empty cache, on random token ids\n"
            "(tokenisation and sampling excluded); t/s is mean +- standard deviation. Also shows\n"
            "peak resident memory and, for generation, the share of the memory-bandwidth roofline:\n"
            "the bytes a token reads (weights, plus the K/V rows attention reads at that depth)\n"
            "times t/s, over the read bandwidth measured next to it.\n\n"
            "  -m, --model FILE      GGUF model (repeat for several)\n"
            "  -p, --n-prompt LIST   prompt lengths, comma separated (default 512; 0 = none)\n"
            "  -n, --n-gen LIST      generation lengths (default 128; 0 = none)\n"
            "  -d, --n-depth LIST    tokens already in the cache when each test starts (default 0),\n"
            "                        as llama-bench's -d: filled before every repetition, untimed;\n"
            "                        the test is named e.g. \"tg128 @ d512\"\n"
            "  -t, --threads LIST    thread counts (default %d)\n"
            "  -r, --repetitions N   timed repetitions (default 5)\n"
            "  -o, --output FMT      md (default), csv, json or jsonl\n"
            "  --membw GBPS          read bandwidth for the roofline (default: measured before and\n"
            "                        after every generation repetition, the higher of the two)\n"
            "  --kv-f32              F32 KV cache (default F16 like llama.cpp)\n"
            "  --no-flash-attn       plain softmax attention\n",
            cli_default_threads(), cli_default_threads());
}

static int parse_list(const char *cmd, const char *flag, const char *v, long long lo, long long hi, int *out, int *n)
{
    *n = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", v);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        long long x;
        if (*n >= MAX_LIST || cli_int(cmd, flag, tok, lo, hi, &x)) return -1;
        out[(*n)++] = (int)x;
    }
    if (*n == 0) {
        cli_error(cmd, "%s: expected a comma-separated list of numbers, got '%s'", flag, v);
        return -1;
    }
    return 0;
}

static double peak_rss_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

/* Array the probe reads: 8x a 32 MiB last-level cache, so every read comes from memory. */
#define PROBE_BYTES ((size_t)256 << 20)
#define PROBE_READS 3   /* best of, per reading */

static uint32_t lcg(uint32_t *s) { return (*s = *s * 1103515245u + 12345u) >> 1; }

/* One timed run; returns seconds or < 0 on error. */
/* n random token ids at positions [pos, pos + n) in one batch (a BOS first at position 0) */
static int decode_random(el_context *c, const el_model *m, int n, int pos, uint32_t *seed, el_err *err)
{
    const el_tokenizer *tok = el_model_tokenizer(m);
    int32_t n_vocab = el_model_hparams(m)->n_vocab, bos = el_tokenizer_bos(tok);
    int32_t *ids = malloc((size_t)n * sizeof *ids);
    if (!ids) return el_errf(err, "out of memory"), -1;
    for (int i = 0; i < n; i++) ids[i] = (int32_t)(lcg(seed) % (uint32_t)n_vocab);
    if (pos == 0 && bos >= 0 && el_tokenizer_adds_bos(tok)) ids[0] = bos;
    int rc = el_decode(c, ids, n, pos, false, err);
    free(ids);
    return rc;
}

/* One timed run after n_depth untimed tokens; returns seconds or < 0 on error. */
static double run_test(el_context *c, const el_model *m, int n_depth, int n_prompt, int n_gen, uint32_t *seed, el_err *err)
{
    const el_tokenizer *tok = el_model_tokenizer(m);
    int32_t n_vocab = el_model_hparams(m)->n_vocab;
    int32_t bos = el_tokenizer_bos(tok);
    el_context_reset(c);
    if (n_depth > 0 && decode_random(c, m, n_depth, 0, seed, err)) return -1;
    double t0 = el_now();
    if (n_prompt > 0 && decode_random(c, m, n_prompt, n_depth, seed, err)) return -1;
    if (n_gen > 0) {
        int32_t t = n_depth == 0 && bos >= 0 && el_tokenizer_adds_bos(tok) ? bos : (int32_t)(lcg(seed) % (uint32_t)n_vocab);
        for (int i = 0; i < n_gen; i++) {
            if (el_decode(c, &t, 1, n_depth + i, false, err)) return -1;
            t = (int32_t)(lcg(seed) % (uint32_t)n_vocab);
        }
    }
    return el_now() - t0;
}

static void print_md(const bench_row *r, int n, bool roof)
{
    printf("| model                          |       size |     params | backend | threads |          test |                  t/s |  peak RSS |%s\n",
           roof ? " roofline |" : "");
    printf("| ------------------------------ | ---------: | ---------: | ------- | ------: | ------------: | -------------------: | --------: |%s\n",
           roof ? " -------: |" : "");
    for (int i = 0; i < n; i++) {
        char params[32], tps[48], rl[32] = "";
        if (r[i].params >= 1e9) snprintf(params, sizeof params, "%.2f B", r[i].params / 1e9);
        else snprintf(params, sizeof params, "%.2f M", r[i].params / 1e6);
        snprintf(tps, sizeof tps, "%.2f ± %.2f", r[i].mean, r[i].sd);
        if (roof) {
            if (r[i].roofline_share >= 0) snprintf(rl, sizeof rl, " %7.1f%% |", 100 * r[i].roofline_share);
            else snprintf(rl, sizeof rl, "        - |");
        }
        printf("| %-30s | %6.2f GiB | %10s | CPU     | %7d | %13s | %20s | %5.0f MiB |%s\n", r[i].model, r[i].size_gib,
               params, r[i].threads, r[i].test, tps, r[i].peak_rss_mib, rl);
    }
}

static cJSON *row_json(const bench_row *r, double membw_fixed)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model_path", r->model_path);
    cJSON_AddStringToObject(o, "model", r->model);
    cJSON_AddBoolToObject(o, "synthetic", r->synthetic);
    cJSON_AddNumberToObject(o, "size_bytes", r->size_gib * 1073741824.0);
    cJSON_AddNumberToObject(o, "params", r->params);
    cJSON_AddStringToObject(o, "backend", "CPU");
    cJSON_AddStringToObject(o, "kernels", r->kernels);
    cJSON_AddStringToObject(o, "edgelm_version", EL_VERSION_STRING);
    cJSON_AddNumberToObject(o, "threads", r->threads);
    cJSON_AddStringToObject(o, "test", r->test);
    cJSON_AddNumberToObject(o, "n_prompt", r->n_prompt);
    cJSON_AddNumberToObject(o, "n_gen", r->n_gen);
    cJSON_AddNumberToObject(o, "n_depth", r->n_depth);
    cJSON_AddNumberToObject(o, "avg_ts", r->mean);
    cJSON_AddNumberToObject(o, "stddev_ts", r->sd);
    cJSON *s = cJSON_AddArrayToObject(o, "samples_ts");
    for (int i = 0; i < r->reps; i++) cJSON_AddItemToArray(s, cJSON_CreateNumber(r->samples[i]));
    cJSON_AddNumberToObject(o, "peak_rss_mib", r->peak_rss_mib);
    if (r->roofline_share >= 0) {
        cJSON_AddNumberToObject(o, "bytes_per_token", r->bytes_per_token);
        cJSON_AddNumberToObject(o, "kv_bytes_per_token", r->kv_bytes_per_token);
        double mean = 0;
        for (int i = 0; i < r->reps; i++) mean += r->rep_gbs[i] / r->reps;
        cJSON_AddNumberToObject(o, "membw_read_gbs", mean);
        cJSON_AddStringToObject(o, "membw_source", membw_fixed > 0 ? "given (--membw)" : "measured before and after each repetition");
        cJSON *g = cJSON_AddArrayToObject(o, "membw_samples_gbs");
        for (int i = 0; i < r->reps; i++) cJSON_AddItemToArray(g, cJSON_CreateNumber(r->rep_gbs[i]));
        cJSON_AddNumberToObject(o, "roofline_share", r->roofline_share);
    }
    cJSON_AddStringToObject(o, "label", "measured");
    return o;
}

int cmd_bench(int argc, char **argv)
{
    const char *cmd = "bench", *models[MAX_LIST], *fmt = "md";
    int n_models = 0, prompts[MAX_LIST] = {512}, n_prompts = 1, gens[MAX_LIST] = {128}, n_gens = 1;
    int depths[MAX_LIST] = {0}, n_depths = 1;
    int threads[MAX_LIST] = {cli_default_threads()}, n_threads = 1;
    long long reps = 5;
    double membw = 0;
    bool kv_f32 = false, flash = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (cli_is(a, "-h", "--help")) {
            bench_usage(stdout);
            return 0;
        } else if (cli_is(a, "-m", "--model")) {
            if (!(v = cli_value(cmd, argc, argv, &i))) return 2;
            if (n_models == MAX_LIST) {
                cli_error(cmd, "at most %d models", MAX_LIST);
                return 2;
            }
            models[n_models++] = v;
        } else if (cli_is(a, "-p", "--n-prompt")) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || parse_list(cmd, a, v, 0, 1 << 16, prompts, &n_prompts)) return 2;
        } else if (cli_is(a, "-n", "--n-gen")) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || parse_list(cmd, a, v, 0, 1 << 16, gens, &n_gens)) return 2;
        } else if (cli_is(a, "-d", "--n-depth")) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || parse_list(cmd, a, v, 0, 1 << 20, depths, &n_depths)) return 2;
        } else if (cli_is(a, "-t", "--threads")) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || parse_list(cmd, a, v, 1, 1024, threads, &n_threads)) return 2;
        } else if (cli_is(a, "-r", "--repetitions")) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || cli_int(cmd, a, v, 1, 64, &reps)) return 2;
        } else if (cli_is(a, "-o", "--output")) {
            if (!(fmt = cli_value(cmd, argc, argv, &i))) return 2;
            if (strcmp(fmt, "md") && strcmp(fmt, "csv") && strcmp(fmt, "json") && strcmp(fmt, "jsonl")) {
                cli_error(cmd, "-o: unknown format '%s' (expected md, csv, json or jsonl)", fmt);
                return 2;
            }
        } else if (cli_is(a, "--membw", NULL)) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || cli_float(cmd, a, v, 0.001, 1e5, &membw)) return 2;
        } else if (cli_is(a, "--kv-f32", NULL)) {
            kv_f32 = true;
        } else if (cli_is(a, "--no-flash-attn", NULL)) {
            flash = false;
        } else {
            return cli_unknown(cmd, a);
        }
    }
    if (!n_models) return cli_missing(cmd, "-m MODEL");
    el_err err;
    bool any_gen = false;
    for (int g = 0; g < n_gens; g++) any_gen |= gens[g] > 0;
    /* the bandwidth probe, forked before any model or thread exists here */
    el_membw_probe *probe = NULL;
    int probe_threads = 0;
    double bw_lo = 0, bw_hi = 0;
    if (any_gen && membw == 0) {
        for (int i = 0; i < n_threads; i++) probe_threads = threads[i] > probe_threads ? threads[i] : probe_threads;
        double huge = -1, gbs;
        if (!(probe = el_membw_probe_start(probe_threads, PROBE_BYTES, &err)) ||
            el_membw_probe_read(probe, PROBE_READS, &gbs, &huge, &err)) {
            cli_error(cmd, "%s", err.msg);
            el_membw_probe_stop(probe);
            return 1;
        }
        char pages[48] = "";
        if (huge >= 0) snprintf(pages, sizeof pages, ", %.0f%% in huge pages", 100 * huge);
        fprintf(stderr, "bench: read bandwidth %.1f GB/s now (measured: %d threads, %zu MiB%s); measured again before and after "
                        "every generation repetition\n", gbs, probe_threads, PROBE_BYTES >> 20, pages);
    }
    /* one row per model, thread count, test and depth */
    bench_row *rows = calloc((size_t)n_models * n_threads * (n_prompts + n_gens) * n_depths, sizeof *rows);
    int n_rows = 0, rc = 0;
    if (!rows) {
        cli_error(cmd, "out of memory");
        el_membw_probe_stop(probe);
        return 1;
    }
    for (int mi = 0; mi < n_models && rc == 0; mi++) {
        el_model *m = el_model_load(models[mi], &err);
        if (!m) {
            cli_error(cmd, "%s", err.msg);
            rc = 1;
            break;
        }
        if (el_model_is_synthetic(m))
            fprintf(stderr, "WARNING: %s is a SYNTHETIC model (random weights): speed and memory only\n", models[mi]);
        fprintf(stderr, "bench: %s: %s\n", models[mi], el_model_kernels(m));
        int max_p = 0, max_g = 0, max_d = 0;
        for (int i = 0; i < n_prompts; i++) max_p = prompts[i] > max_p ? prompts[i] : max_p;
        for (int i = 0; i < n_gens; i++) max_g = gens[i] > max_g ? gens[i] : max_g;
        for (int i = 0; i < n_depths; i++) max_d = depths[i] > max_d ? depths[i] : max_d;
        const el_hparams *hp = el_model_hparams(m);
        /* K and V of one position of every layer: what attention reads per token and position */
        double kv_pos_bytes = 2.0 * hp->n_layer * hp->n_head_kv * hp->head_dim * (kv_f32 ? 4 : 2);
        for (int ti = 0; ti < n_threads && rc == 0; ti++) {
            el_context_params cp = {max_d + (max_p > max_g ? max_p : max_g), threads[ti], kv_f32 ? EL_TYPE_F32 : EL_TYPE_F16, flash};
            if (cp.n_ctx < 1) cp.n_ctx = 1;
            el_context *c = el_context_new_ex(m, &cp, &err);
            if (!c) {
                cli_error(cmd, "%s", err.msg);
                rc = 1;
                break;
            }
            for (int kind = 0; kind < 2 && rc == 0; kind++) {
                int n_tests = (kind == 0 ? n_prompts : n_gens) * n_depths;
                for (int k = 0; k < n_tests && rc == 0; k++) {
                    int np = kind == 0 ? prompts[k / n_depths] : 0, ng = kind == 1 ? gens[k / n_depths] : 0;
                    int nd = depths[k % n_depths];
                    if (np == 0 && ng == 0) continue;
                    bench_row *r = &rows[n_rows];
                    r->model_path = models[mi];
                    snprintf(r->model, sizeof r->model, "%s", el_model_desc(m));
                    r->size_gib = (double)el_model_n_bytes(m) / 1073741824.0;
                    r->params = (double)el_model_n_params(m);
                    r->threads = threads[ti];
                    r->n_prompt = np, r->n_gen = ng, r->n_depth = nd;
                    r->synthetic = el_model_is_synthetic(m);
                    snprintf(r->kernels, sizeof r->kernels, "%s", el_model_kernels(m));
                    if (nd) snprintf(r->test, sizeof r->test, np ? "pp%d @ d%d" : "tg%d @ d%d", np ? np : ng, nd);
                    else snprintf(r->test, sizeof r->test, np ? "pp%d" : "tg%d", np ? np : ng);
                    uint32_t seed = 1234;
                    fprintf(stderr, "bench: %s %s t=%d: warm-up", r->model, r->test, r->threads);
                    /* warm-up as llama-bench: the prompt test once, a 1-token generation for tg */
                    if (run_test(c, m, nd, np, ng ? 1 : 0, &seed, &err) < 0) {
                        cli_error(cmd, "%s", err.msg);
                        rc = 1;
                        break;
                    }
                    double sum = 0, sum2 = 0, share = 0, bw_before = membw;
                    bool roof = ng && (membw > 0 || probe);
                    r->bytes_per_token = (double)el_model_bytes_per_token(m);
                    /* token i of the test attends positions [0, nd + i]: nd + (ng + 1) / 2 on average */
                    r->kv_bytes_per_token = ng ? kv_pos_bytes * (nd + (ng + 1) / 2.0) : 0;
                    if (roof && probe && el_membw_probe_read(probe, PROBE_READS, &bw_before, NULL, &err)) {
                        cli_error(cmd, "%s", err.msg);
                        rc = 1;
                        break;
                    }
                    for (int rep = 0; rep < reps; rep++) {
                        double dt = run_test(c, m, nd, np, ng, &seed, &err);
                        if (dt < 0) {
                            cli_error(cmd, "%s", err.msg);
                            rc = 1;
                            break;
                        }
                        double tps = (np + ng) / dt, bw_after = membw;
                        if (roof && probe && el_membw_probe_read(probe, PROBE_READS, &bw_after, NULL, &err)) {
                            cli_error(cmd, "%s", err.msg);
                            rc = 1;
                            break;
                        }
                        /* the repetition against the higher reading either side of it */
                        double bw = bw_before > bw_after ? bw_before : bw_after;
                        if (roof) {
                            bw_lo = bw_lo == 0 || bw < bw_lo ? bw : bw_lo;
                            bw_hi = bw > bw_hi ? bw : bw_hi;
                            share += (r->bytes_per_token + r->kv_bytes_per_token) * tps / (bw * 1e9);
                        }
                        bw_before = bw_after;
                        r->rep_gbs[r->reps] = bw;
                        r->samples[r->reps++] = tps;
                        sum += tps, sum2 += tps * tps;
                        fprintf(stderr, roof ? " %.1f (%.1f GB/s)" : " %.1f", tps, bw);
                    }
                    fprintf(stderr, " t/s\n");
                    if (rc) break;
                    r->mean = sum / r->reps;
                    r->sd = r->reps > 1 ? sqrt(fmax(0, (sum2 - r->reps * r->mean * r->mean) / (r->reps - 1))) : 0;
                    r->peak_rss_mib = peak_rss_mib();
                    r->roofline_share = roof ? share / r->reps : -1;
                    n_rows++;
                }
            }
            el_context_free(c);
        }
        el_model_free(m);
    }
    if (n_rows) {
        if (strcmp(fmt, "md") == 0) {
            bool roof = membw > 0 || bw_hi > 0;
            print_md(rows, n_rows, roof);
            if (membw > 0)
                printf("\nroofline: bytes read per token (weights + K/V rows) x t/s / read bandwidth %.1f GB/s (given)\n", membw);
            else if (bw_hi > 0)
                printf("\nroofline: bytes read per token (weights + K/V rows) x t/s / read bandwidth, measured before and after every\n"
                       "repetition (%d threads, best of %d reads of %zu MiB), the higher of the two: %.1f-%.1f GB/s (measured)\n",
                       probe_threads, PROBE_READS, PROBE_BYTES >> 20, bw_lo, bw_hi);
        } else if (strcmp(fmt, "csv") == 0) {
            printf("model,model_path,size_bytes,params,backend,threads,test,n_prompt,n_gen,avg_ts,stddev_ts,peak_rss_mib,roofline_share,synthetic,membw_read_gbs,bytes_per_token,n_depth,kv_bytes_per_token\n");
            for (int i = 0; i < n_rows; i++) {
                double bw = 0;
                for (int k = 0; rows[i].roofline_share >= 0 && k < rows[i].reps; k++) bw += rows[i].rep_gbs[k] / rows[i].reps;
                printf("\"%s\",\"%s\",%.0f,%.0f,CPU,%d,%s,%d,%d,%.4f,%.4f,%.1f,%.4f,%s,%.2f,%.0f,%d,%.0f\n", rows[i].model, rows[i].model_path,
                       rows[i].size_gib * 1073741824.0, rows[i].params, rows[i].threads, rows[i].test, rows[i].n_prompt,
                       rows[i].n_gen, rows[i].mean, rows[i].sd, rows[i].peak_rss_mib, rows[i].roofline_share,
                       rows[i].synthetic ? "true" : "false", bw, rows[i].bytes_per_token, rows[i].n_depth, rows[i].kv_bytes_per_token);
            }
        } else {
            bool lines = strcmp(fmt, "jsonl") == 0;
            cJSON *arr = lines ? NULL : cJSON_CreateArray();
            for (int i = 0; i < n_rows; i++) {
                cJSON *o = row_json(&rows[i], membw);
                if (lines) {
                    char *s = cJSON_PrintUnformatted(o);
                    if (s) puts(s);
                    cJSON_free(s);
                    cJSON_Delete(o);
                } else {
                    cJSON_AddItemToArray(arr, o);
                }
            }
            if (arr) {
                char *s = cJSON_Print(arr);
                if (s) puts(s);
                cJSON_free(s);
                cJSON_Delete(arr);
            }
        }
    }
    free(rows);
    el_membw_probe_stop(probe);
    return rc;
}
