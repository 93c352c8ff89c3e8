/* cmd_sweep.c -- `edgelm sweep llm`: the study's experiment. Prompts of
 * exact token lengths, cut from real text, each measured by the profiler in
 * its own window; one JSONL record per measurement, appended and fsync'd as
 * it comes (docs/sweep-jsonl.md).
 *
 * Modes: resident (the model stays loaded; each prompt gets a fresh context,
 * like a new chat in a running server) and reload (a fresh process per
 * prompt: `edgelm sweep-worker`, measured as a process tree, load included). */
#include "cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "edgelm/measure.h"
#include "edgelm/model.h"
#include "edgelm/runfile.h"
#include "edgelm/threads.h"

#define MAX_LENGTHS 64

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) { g_stop = sig; }

static void usage(FILE *f)
{
    fprintf(f,
            "usage: edgelm sweep llm -m MODEL -f CORPUS -o RUN.jsonl [options]\n"
            "\n"
            "Measure how a prompt's cost grows with its token length (the study's LLM\n"
            "experiment). Each prompt is cut from CORPUS to an exact token length and\n"
            "measured by the profiler in its own window: CPU AUC, RAM AUC, energy\n"
            "(measured or estimated, labelled), prefill and decode tokens/s, time to first\n"
            "token, peak RSS. Results are appended to RUN.jsonl as they come (one fsync'd\n"
            "line per measurement), so an interrupted sweep keeps what it measured.\n"
            "\n"
            "options:\n"
            "  -m, --model FILE      GGUF model (llama / qwen2)\n"
            "  -f, --file CORPUS     text the prompts are cut from (e.g. wikitext)\n"
            "  -o, --output FILE     JSONL results (truncated unless --append)\n"
            "      --tokens LIST     prompt lengths in tokens, BOS included\n"
            "                        (default 16,32,64,128,256,512,1024,2048, capped by the context)\n"
            "      --gen N           tokens generated after each prompt (default 16)\n"
            "      --repeat R        measurements per length (default 3)\n"
            "      --mode MODE       resident (model loaded once, default) or reload (a fresh\n"
            "                        process per prompt, model load included)\n"
            "  -t, --threads N       threads (default: physical cores, %d here)\n"
            "      --hz HZ           sampling rate (default 5, the study's)\n"
            "      --idle S          idle baseline before the first prompt (default 3 s)\n"
            "      --pause S         idle time between prompts (default 0.5 s)\n"
            "      --energy SPEC     auto|none|rapl|perf|hwmon|pmic|meter:FILE|model:PROFILE\n"
            "                        (default auto; see edgelm profile --help)\n"
            "      --warmup K        unmeasured warm-up prompts before the baseline (default 1)\n"
            "      --seed S          order of the measurements (shuffled; default 1)\n"
            "      --no-shuffle      measure in the given order instead\n"
            "      --trace FILE      the sampler's raw trace (default: RUN.trace.csv)\n"
            "      --no-trace        do not write the trace\n"
            "      --append          append to an existing RUN.jsonl instead of truncating it\n"
            "  -q, --quiet           no progress lines\n"
            "  -h, --help            this help\n"
            "\n"
            "Then: edgelm fit RUN.jsonl --law linear; edgelm compare BASE.jsonl OTHER.jsonl;\n"
            "edgelm report DIR -o report.html.\n",
            cli_default_threads());
}

typedef struct sweep_opts {
    const char *model, *corpus, *out, *energy, *trace;
    int lengths[MAX_LENGTHS], n_lengths;
    int gen, repeat, threads, warmup;
    bool reload, shuffle, append, quiet, no_trace, lengths_given;
    double hz, idle_s, pause_s;
    unsigned long long seed;
} sweep_opts;

static int parse_lengths(const char *cmd, const char *v, sweep_opts *o)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", v);
    o->n_lengths = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        long long x;
        if (o->n_lengths >= MAX_LENGTHS) {
            cli_error(cmd, "--tokens: at most %d lengths", MAX_LENGTHS);
            return -1;
        }
        if (cli_int(cmd, "--tokens", tok, 1, 1 << 20, &x)) return -1;
        o->lengths[o->n_lengths++] = (int)x;
    }
    if (o->n_lengths == 0) {
        cli_error(cmd, "--tokens: expected a comma-separated list of token counts, got '%s'", v);
        return -1;
    }
    return 0;
}

/* ---- machine description ----------------------------------------------------- */

static void cpu_model_name(char *buf, size_t cap)
{
    snprintf(buf, cap, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0 || strncmp(line, "Model\t", 6) == 0 ||
                strncmp(line, "Hardware", 8) == 0) {
                char *c = strchr(line, ':');
                if (!c) continue;
                c++;
                while (*c == ' ' || *c == '\t') c++;
                c[strcspn(c, "\n")] = 0;
                snprintf(buf, cap, "%s", c);
                break;
            }
        }
        fclose(f);
    }
    f = fopen("/proc/device-tree/model", "r");  // Raspberry Pi and other boards
    if (f) {
        char m[256];
        size_t n = fread(m, 1, sizeof m - 1, f);
        m[n] = 0;
        if (n) snprintf(buf, cap, "%s", m);
        fclose(f);
    }
}

static cJSON *machine_json(int n_cpus, double mem_total_mb)
{
    cJSON *m = cJSON_CreateObject();
    if (!m) return NULL;
    char cpu[256];
    cpu_model_name(cpu, sizeof cpu);
    cJSON_AddStringToObject(m, "cpu", cpu);
    cJSON_AddStringToObject(m, "isa", el_cpu_describe());
    cJSON_AddNumberToObject(m, "n_cpus", n_cpus);
    cJSON_AddNumberToObject(m, "physical_cores", el_physical_cores());
    cJSON_AddNumberToObject(m, "mem_total_mb", mem_total_mb);
    struct utsname u;
    if (uname(&u) == 0) {
        char k[400];
        snprintf(k, sizeof k, "%s %s %s", u.sysname, u.release, u.machine);
        cJSON_AddStringToObject(m, "kernel", k);
        cJSON_AddStringToObject(m, "hostname", u.nodename);
    }
    return m;
}

static void iso_now(char *buf, size_t cap)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

#define add_num el_json_add_num

/* ---- prompts ----------------------------------------------------------------- */

typedef struct corpus {
    int32_t *ids;
    int64_t n;
    int32_t bos;
    bool add_bos;
} corpus;

static int load_corpus(const char *path, const el_model *m, corpus *c, el_err *err)
{
    memset(c, 0, sizeof *c);
    FILE *f = fopen(path, "rb");
    if (!f) return el_errf(err, "%s: cannot open: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return el_errf(err, "%s: cannot seek", path);
    }
    long sz = ftell(f);
    rewind(f);
    if (sz <= 0) {
        fclose(f);
        return el_errf(err, "%s: empty corpus", path);
    }
    // a few MB of text is plenty for prompts of up to a context's length
    size_t want = (size_t)sz > (2u << 20) ? (2u << 20) : (size_t)sz;
    char *text = malloc(want + 1);
    if (!text) {
        fclose(f);
        return el_errf(err, "%s: out of memory", path);
    }
    size_t got = fread(text, 1, want, f);
    fclose(f);
    text[got] = 0;
    const el_tokenizer *tk = el_model_tokenizer(m);
    int64_t cap = (int64_t)got + 16;
    c->ids = malloc(sizeof *c->ids * (size_t)cap);
    if (!c->ids) {
        free(text);
        return el_errf(err, "out of memory");
    }
    int64_t n = el_tokenize(tk, text, got, false, false, c->ids, cap, err);
    free(text);
    if (n < 0) {
        free(c->ids);
        c->ids = NULL;
        return el_err_prefix(err, "%s", path);
    }
    if (n < 8) {
        free(c->ids);
        c->ids = NULL;
        return el_errf(err, "%s: only %lld tokens of text; a corpus needs more", path, (long long)n);
    }
    c->n = n;
    c->bos = el_tokenizer_bos(tk);
    c->add_bos = el_tokenizer_adds_bos(tk) && c->bos >= 0;
    return 0;
}

/* A prompt of exactly len tokens: BOS (if the vocabulary adds one) and then
 * text from the corpus, starting at a different place for each repeat and
 * wrapping around at the end. */
static void make_prompt(const corpus *c, int len, int repeat, int n_repeat, int32_t *out)
{
    int k = 0;
    if (c->add_bos && len > 0) out[k++] = c->bos;
    int64_t start = n_repeat > 0 ? (c->n * repeat) / (n_repeat + 1) : 0;
    for (; k < len; k++) out[k] = c->ids[(start + k) % c->n];
}

static int32_t argmax(const float *v, int n)
{
    int32_t b = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[b]) b = i;
    return b;
}

typedef struct timing {
    double load_s, prefill_s, decode_s, ttft_s;
    double child_max_rss_mb;   /* reload: the worker's own high-water mark (rusage), else 0 */
    double child_user_s, child_sys_s;   /* reload: the worker's CPU times (rusage, microseconds), else 0 */
    int n_prompt, n_gen;
} timing;

/* Prefill the prompt as one batch, then generate n_gen tokens greedily (the
 * first from the prompt's logits; EOS is ignored so every prompt generates
 * the same count, as llama-bench does). */
static int run_prompt(el_context *ctx, const int32_t *ids, int n, int n_gen, timing *tm, el_err *err)
{
    int n_vocab = el_model_hparams(el_context_model(ctx))->n_vocab;
    double t0 = el_now();
    if (el_decode(ctx, ids, n, 0, false, err) != 0) return -1;
    double t1 = el_now();
    int32_t tok = argmax(el_get_logits(ctx, -1), n_vocab);
    double t2 = el_now();
    tm->prefill_s = t1 - t0;
    tm->ttft_s = t2 - t0;
    tm->n_prompt = n;
    tm->n_gen = n_gen > 0 ? 1 : 0;
    for (int i = 1; i < n_gen; i++) {
        if (g_stop) return el_errf(err, "interrupted");
        if (el_decode(ctx, &tok, 1, n + i - 1, false, err) != 0) return -1;
        tok = argmax(el_get_logits(ctx, -1), n_vocab);
        tm->n_gen++;
    }
    tm->decode_s = el_now() - t2;
    return 0;
}

/* ---- the worker: one prompt in a fresh process (reload mode) ------------------ */

int cmd_sweep_worker(int argc, char **argv)
{
    const char *cmd = "sweep-worker";
    const char *model = NULL;
    long long threads = 1, gen = 0, n_ctx = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (cli_is(argv[i], "-h", "--help")) {
            printf("usage: edgelm sweep-worker -m MODEL -t N --gen N --ctx N < ids\n"
                   "(internal: one prompt of token ids read from stdin, for `edgelm sweep --mode reload`;\n"
                   "prints its timings as one JSON line)\n");
            return 0;
        } else if (cli_is(argv[i], "-m", "--model")) {
            if (!(model = cli_value(cmd, argc, argv, &i))) return 2;
        } else if (cli_is(argv[i], "-t", "--threads")) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || cli_int(cmd, argv[i - 1], v, 1, 1024, &threads)) return 2;
        } else if (cli_is(argv[i], "--gen", NULL)) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || cli_int(cmd, argv[i - 1], v, 0, 1 << 20, &gen)) return 2;
        } else if (cli_is(argv[i], "--ctx", NULL)) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || cli_int(cmd, argv[i - 1], v, 1, 1 << 22, &n_ctx)) return 2;
        } else {
            return cli_unknown(cmd, argv[i]);
        }
    }
    if (!model) return cli_missing(cmd, "-m MODEL");
    // token ids from stdin
    size_t cap = 1024, n = 0;
    int32_t *ids = malloc(cap * sizeof *ids);
    long v;
    while (ids && scanf("%ld", &v) == 1) {
        if (n == cap) {
            int32_t *ni = realloc(ids, 2 * cap * sizeof *ids);
            if (!ni) break;
            ids = ni;
            cap *= 2;
        }
        ids[n++] = (int32_t)v;
    }
    if (!ids || n == 0) {
        cli_error(cmd, "no token ids on stdin");
        free(ids);
        return 1;
    }
    el_err err;
    timing tm = {0};
    memset(&tm, 0, sizeof tm);
    double t0 = el_now();
    el_model *m = el_model_load(model, &err);
    if (!m) {
        cli_error(cmd, "%s", err.msg);
        free(ids);
        return 1;
    }
    el_context_params cp = el_context_default_params();
    cp.n_ctx = (int)(n_ctx > 0 ? n_ctx : (long long)n + gen);
    cp.n_threads = (int)threads;
    el_context *ctx = el_context_new_ex(m, &cp, &err);
    int rc = 1;
    if (ctx) {
        tm.load_s = el_now() - t0;
        for (size_t i = 0; i < n; i++)
            if (ids[i] < 0 || ids[i] >= el_model_hparams(m)->n_vocab) {
                cli_error(cmd, "token id %d is outside the vocabulary", ids[i]);
                goto out;
            }
        if (run_prompt(ctx, ids, (int)n, (int)gen, &tm, &err) == 0) {
            printf("{\"load_s\":%.9g,\"prefill_s\":%.9g,\"decode_s\":%.9g,\"ttft_s\":%.9g,\"n_prompt\":%d,\"n_gen\":%d}\n",
                   tm.load_s, tm.prefill_s, tm.decode_s, tm.ttft_s, tm.n_prompt, tm.n_gen);
            rc = 0;
        }
    }
    if (rc) cli_error(cmd, "%s", err.msg);
out:
    el_context_free(ctx);
    el_model_free(m);
    free(ids);
    return rc;
}

/* Run one prompt in `edgelm sweep-worker`, as the profiler's tree, inside the
 * window `name`. */
static int run_reload(const sweep_opts *o, el_profiler *p, const char *name, const int32_t *ids, int n,
                      timing *tm, el_err *err)
{
    int in[2], outp[2];
    if (pipe2(in, O_CLOEXEC) != 0) return el_errf(err, "pipe: %s", strerror(errno));
    if (pipe2(outp, O_CLOEXEC) != 0) {
        close(in[0]);
        close(in[1]);
        return el_errf(err, "pipe: %s", strerror(errno));
    }
    char self[4096];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0) snprintf(self, sizeof self, "edgelm");
    else self[sl] = 0;
    char tbuf[32], gbuf[32], cbuf[32];
    snprintf(tbuf, sizeof tbuf, "%d", o->threads);
    snprintf(gbuf, sizeof gbuf, "%d", o->gen);
    snprintf(cbuf, sizeof cbuf, "%d", n + o->gen);
    char *args[] = {self, "sweep-worker", "-m", (char *)o->model, "-t", tbuf, "--gen", gbuf, "--ctx", cbuf, NULL};
    pid_t pid = fork();
    if (pid < 0) {
        close(in[0]);
        close(in[1]);
        close(outp[0]);
        close(outp[1]);
        return el_errf(err, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        dup2(in[0], 0);
        dup2(outp[1], 1);
        execv(self, args);
        _exit(127);
    }
    close(in[0]);
    close(outp[1]);
    int rc = 0;
    if (el_profiler_attach(p, pid, err) != 0 || el_profiler_begin(p, name, err) != 0) rc = -1;
    // the ids (the worker reads them after loading the model)
    FILE *w = fdopen(in[1], "w");
    if (w) {
        for (int i = 0; i < n; i++) fprintf(w, "%d\n", ids[i]);
        fclose(w);
    } else {
        close(in[1]);
    }
    siginfo_t si;
    memset(&si, 0, sizeof si);
    while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) != 0) {
        if (errno != EINTR) break;
        if (g_stop) kill(pid, SIGTERM);
    }
    // end the window while the zombie still shows its CPU times
    if (rc == 0 && el_profiler_end(p, name, err) != 0) rc = -1;
    int st = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR) {}
    tm->child_max_rss_mb = (double)ru.ru_maxrss / 1024.0;   /* kB */
    tm->child_user_s = (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec;
    tm->child_sys_s = (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
    char buf[1024];
    ssize_t got = read(outp[0], buf, sizeof buf - 1);
    close(outp[0]);
    if (rc) return rc;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        if (g_stop) return el_errf(err, "interrupted");
        return el_errf(err, "the worker process %s %d", WIFEXITED(st) ? "exited with status" : "was killed by signal",
                       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    }
    buf[got > 0 ? got : 0] = 0;
    cJSON *j = cJSON_Parse(buf);
    if (!j) return el_errf(err, "the worker printed no timings");
    const cJSON *v;
#define GETN(k, dst) ((v = cJSON_GetObjectItemCaseSensitive(j, k)) && cJSON_IsNumber(v) ? (dst = v->valuedouble, 1) : 0)
    double np = 0, ng = 0;
    GETN("load_s", tm->load_s);
    GETN("prefill_s", tm->prefill_s);
    GETN("decode_s", tm->decode_s);
    GETN("ttft_s", tm->ttft_s);
    GETN("n_prompt", np);
    GETN("n_gen", ng);
#undef GETN
    tm->n_prompt = (int)np;
    tm->n_gen = (int)ng;
    cJSON_Delete(j);
    return 0;
}

/* ---- records ----------------------------------------------------------------- */

static cJSON *measurement_json(int id, int order, int len, int repeat, const sweep_opts *o, const timing *tm,
                               const el_window_stats *w, el_profiler *p, double base_rss_mb)
{
    cJSON *r = cJSON_CreateObject();
    if (!r) return NULL;
    cJSON_AddStringToObject(r, "type", "measurement");
    cJSON_AddNumberToObject(r, "id", id);
    cJSON_AddNumberToObject(r, "order", order);
    cJSON_AddNumberToObject(r, "tokens", len);
    cJSON_AddNumberToObject(r, "repeat", repeat);
    cJSON_AddStringToObject(r, "mode", o->reload ? "reload" : "resident");
    cJSON_AddStringToObject(r, "window", w->name);
    add_num(r, "t_start_s", w->t0);
    add_num(r, "t_end_s", w->t1);
    add_num(r, "wall_s", w->wall_s);
    cJSON_AddNumberToObject(r, "samples", w->i1 - w->i0 + 1);
    cJSON_AddNumberToObject(r, "n_prompt", tm->n_prompt);
    cJSON_AddNumberToObject(r, "n_gen", tm->n_gen);
    add_num(r, "load_s", o->reload ? tm->load_s : NAN);
    add_num(r, "prefill_s", tm->prefill_s);
    add_num(r, "prefill_tps", tm->prefill_s > 0 ? tm->n_prompt / tm->prefill_s : NAN);
    add_num(r, "decode_s", tm->decode_s);
    add_num(r, "decode_tps", tm->n_gen > 1 && tm->decode_s > 0 ? (tm->n_gen - 1) / tm->decode_s : NAN);
    add_num(r, "ttft_s", tm->ttft_s);
    add_num(r, "cpu_auc_core_s", w->cpu_core_s);
    add_num(r, "cpu_auc_pct_s", w->cpu_pct_s);
    add_num(r, "cpu_trapz_core_s", w->cpu_trapz_core_s);
    /* /proc counts in 10 ms ticks: a reload worker of a few ms may show none;
     * the kernel's own account of the worker (rusage) is a floor */
    add_num(r, "user_s", w->user_s > tm->child_user_s ? w->user_s : tm->child_user_s);
    add_num(r, "system_s", w->sys_s > tm->child_sys_s ? w->sys_s : tm->child_sys_s);
    add_num(r, "system_cpu_auc_core_s", w->sys_cpu_core_s);
    add_num(r, "ram_auc_mb_s", w->ram_mb_s);
    add_num(r, "ram_auc_pct_s", w->ram_pct_s);
    add_num(r, "ram_resident_mb_s", w->ram_mb_s + base_rss_mb * w->wall_s);
    add_num(r, "pss_auc_mb_s", w->pss_mb_s);
    add_num(r, "system_ram_auc_mb_s", w->sys_ram_mb_s);
    /* a worker shorter than the sampling period may show no sample of its
     * own: the kernel's high-water mark of the worker is a floor */
    add_num(r, "peak_rss_mb", w->peak_rss_mb > tm->child_max_rss_mb ? w->peak_rss_mb : tm->child_max_rss_mb);
    add_num(r, "peak_pss_mb", w->peak_pss_mb);
    add_num(r, "energy_j", w->energy_j);
    add_num(r, "energy_above_idle_j", w->energy_above_idle_j);
    add_num(r, "mean_power_w", w->mean_power_w);
    cJSON_AddStringToObject(r, "energy_label", el_profiler_energy_label(p));
    cJSON_AddStringToObject(r, "energy_source", el_profiler_energy_name(p));
    return r;
}

static int append(int fd, cJSON *rec, const char *path, el_err *err)
{
    if (!rec) return el_errf(err, "out of memory building a record");
    int rc = el_jsonl_append(fd, rec, err);
    cJSON_Delete(rec);
    if (rc) el_err_prefix(err, "%s", path);
    return rc;
}

static void shuffle(int *a, int n, unsigned long long *s)
{
    for (int i = n - 1; i > 0; i--) {
        *s = *s * 6364136223846793005ull + 1442695040888963407ull;
        int j = (int)((*s >> 33) % (unsigned long long)(i + 1));
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

static int sleep_s(double s)
{
    double end = el_now() + s;
    while (!g_stop) {
        double left = end - el_now();
        if (left <= 0) return 0;
        struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
        nanosleep(&ts, NULL);
    }
    return -1;
}

int cmd_sweep(int argc, char **argv)
{
    const char *cmd = "sweep";
    sweep_opts o;
    memset(&o, 0, sizeof o);
    o.gen = 16;
    o.repeat = 3;
    o.threads = cli_default_threads();
    o.warmup = 1;
    o.hz = 5;
    o.idle_s = 3;
    o.pause_s = 0.5;
    o.energy = "auto";
    o.seed = 1;
    o.shuffle = true;
    static const int def_lengths[] = {16, 32, 64, 128, 256, 512, 1024, 2048};
    o.n_lengths = 8;
    memcpy(o.lengths, def_lengths, sizeof def_lengths);

    if (argc >= 2 && cli_is(argv[1], "-h", "--help")) {
        usage(stdout);
        return 0;
    }
    if (argc < 2 || argv[1][0] == '-') {
        cli_error(cmd, "expected a kind of sweep first: 'edgelm sweep llm ...' (see 'edgelm sweep --help')");
        return 2;
    }
    if (strcmp(argv[1], "vlm") == 0) {
        cli_error(cmd, "'sweep vlm' needs a vision-language model runner, which edgelm does not have yet; "
                       "'sweep llm' measures language models");
        return 2;
    }
    if (strcmp(argv[1], "llm") != 0) {
        cli_error(cmd, "unknown kind of sweep '%s' (expected 'llm')", argv[1]);
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        const char *v;
        long long x;
        const char *a = argv[i];
        if (cli_is(a, "-h", "--help")) {
            usage(stdout);
            return 0;
        } else if (cli_is(a, "-m", "--model")) {
            if (!(o.model = cli_value(cmd, argc, argv, &i))) return 2;
        } else if (cli_is(a, "-f", "--file")) {
            if (!(o.corpus = cli_value(cmd, argc, argv, &i))) return 2;
        } else if (cli_is(a, "-o", "--output")) {
            if (!(o.out = cli_value(cmd, argc, argv, &i))) return 2;
        } else if (cli_is(a, "--tokens", NULL)) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || parse_lengths(cmd, v, &o)) return 2;
            o.lengths_given = true;
        } else if (cli_is(a, "--gen", "-n")) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || cli_int(cmd, a, v, 0, 1 << 20, &x)) return 2;
            o.gen = (int)x;
        } else if (cli_is(a, "--repeat", "-r")) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || cli_int(cmd, a, v, 1, 100000, &x)) return 2;
            o.repeat = (int)x;
        } else if (cli_is(a, "--warmup", NULL)) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || cli_int(cmd, a, v, 0, 1000, &x)) return 2;
            o.warmup = (int)x;
        } else if (cli_is(a, "-t", "--threads")) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || cli_int(cmd, a, v, 1, 1024, &x)) return 2;
            o.threads = (int)x;
        } else if (cli_is(a, "--seed", NULL)) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || cli_int(cmd, a, v, 0, (1ll << 62), &x)) return 2;
            o.seed = (unsigned long long)x;
        } else if (cli_is(a, "--mode", NULL)) {
            if (!(v = cli_value(cmd, argc, argv, &i))) return 2;
            if (strcmp(v, "resident") == 0) o.reload = false;
            else if (strcmp(v, "reload") == 0) o.reload = true;
            else {
                cli_error(cmd, "--mode: expected 'resident' or 'reload', got '%s'", v);
                return 2;
            }
        } else if (cli_is(a, "--hz", NULL)) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || cli_float(cmd, a, v, 0.1, 1000, &o.hz)) return 2;
        } else if (cli_is(a, "--idle", NULL)) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || cli_float(cmd, a, v, 0, 3600, &o.idle_s)) return 2;
        } else if (cli_is(a, "--pause", NULL)) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || cli_float(cmd, a, v, 0, 3600, &o.pause_s)) return 2;
        } else if (cli_is(a, "--energy", NULL)) {
            if (!(o.energy = cli_value(cmd, argc, argv, &i))) return 2;
        } else if (cli_is(a, "--trace", NULL)) {
            if (!(o.trace = cli_value(cmd, argc, argv, &i))) return 2;
        } else if (cli_is(a, "--no-trace", NULL)) {
            o.no_trace = true;
        } else if (cli_is(a, "--no-shuffle", NULL)) {
            o.shuffle = false;
        } else if (cli_is(a, "--append", NULL)) {
            o.append = true;
        } else if (cli_is(a, "-q", "--quiet")) {
            o.quiet = true;
        } else {
            return cli_unknown(cmd, a);
        }
    }
    if (!o.model) return cli_missing(cmd, "-m MODEL");
    if (!o.corpus) return cli_missing(cmd, "-f CORPUS (the text prompts are cut from)");
    if (!o.out) return cli_missing(cmd, "-o RUN.jsonl");

    el_err err;
    int rc = 1, fd = -1;
    el_model *m = NULL;
    el_profiler *p = NULL;
    corpus cp;
    memset(&cp, 0, sizeof cp);
    int *plan = NULL;
    int32_t *ids = NULL;
    char trace_path[4096] = "";
    int done_count = 0, planned = 0;
    const char *end_reason = "finished";
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    g_stop = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    double t_load = el_now();
    m = el_model_load(o.model, &err);
    if (!m) {
        cli_error(cmd, "%s", err.msg);
        goto done;
    }
    t_load = el_now() - t_load;
    if (el_model_is_synthetic(m) && !o.quiet)
        fprintf(stderr, "edgelm sweep: NOTE: %s is SYNTHETIC (random weights): costs are real, text is not\n", o.model);
    if (load_corpus(o.corpus, m, &cp, &err) != 0) {
        cli_error(cmd, "%s", err.msg);
        goto done;
    }
    int n_ctx_train = el_model_hparams(m)->n_ctx_train;
    {
        // lengths beyond the context: an error if asked for, dropped from the default
        int k = 0;
        for (int i = 0; i < o.n_lengths; i++) {
            if (o.lengths[i] + o.gen > n_ctx_train) {
                if (o.lengths_given) {
                    cli_error(cmd, "--tokens %d + --gen %d exceeds the model's context of %d tokens", o.lengths[i],
                              o.gen, n_ctx_train);
                    rc = 2;
                    goto done;
                }
                continue;
            }
            o.lengths[k++] = o.lengths[i];
        }
        o.n_lengths = k;
        if (k == 0) {
            cli_error(cmd, "no prompt length fits the model's context of %d tokens with --gen %d", n_ctx_train, o.gen);
            rc = 2;
            goto done;
        }
    }
    int max_len = 0;
    for (int i = 0; i < o.n_lengths; i++)
        if (o.lengths[i] > max_len) max_len = o.lengths[i];
    ids = malloc(sizeof *ids * (size_t)max_len);
    planned = o.n_lengths * o.repeat;
    plan = malloc(sizeof *plan * (size_t)planned);
    if (!ids || !plan) {
        cli_error(cmd, "out of memory");
        goto done;
    }
    for (int i = 0; i < planned; i++) plan[i] = i;  // length index * repeat + r
    {
        unsigned long long s = o.seed * 0x9E3779B97F4A7C15ull + 1;
        if (o.shuffle) shuffle(plan, planned, &s);
    }

    // warm-up: touch the weights and the code paths before the baseline
    for (int w = 0; w < o.warmup && !g_stop; w++) {
        int len = o.lengths[0] < 64 ? o.lengths[0] : 64;
        make_prompt(&cp, len, 0, o.repeat, ids);
        el_context_params cpar = el_context_default_params();
        cpar.n_ctx = len + o.gen;
        cpar.n_threads = o.threads;
        el_context *ctx = el_context_new_ex(m, &cpar, &err);
        timing tm = {0};
        if (!ctx || run_prompt(ctx, ids, len, o.gen < 4 ? o.gen : 4, &tm, &err) != 0) {
            el_context_free(ctx);
            if (g_stop) break;
            cli_error(cmd, "warm-up: %s", err.msg);
            goto done;
        }
        el_context_free(ctx);
    }

    fd = open(o.out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (o.append ? 0 : O_TRUNC), 0644);
    if (fd < 0) {
        cli_error(cmd, "%s: cannot write: %s", o.out, strerror(errno));
        goto done;
    }
    if (!o.no_trace) {
        if (o.trace) snprintf(trace_path, sizeof trace_path, "%s", o.trace);
        else {
            size_t ol = strlen(o.out);
            if (ol > 6 && strcmp(o.out + ol - 6, ".jsonl") == 0)
                snprintf(trace_path, sizeof trace_path, "%.*s.trace.csv", (int)(ol - 6), o.out);
            else snprintf(trace_path, sizeof trace_path, "%s.trace.csv", o.out);
        }
    }
    el_profiler_config pc = el_profiler_defaults();
    pc.hz = o.hz;
    pc.idle_s = o.idle_s;
    pc.energy = o.energy;
    pc.pid = o.reload ? -1 : 0;
    pc.trace_path = trace_path[0] ? trace_path : NULL;
    pc.auto_windows = false;
    p = el_profiler_new(&pc, &err);
    if (!p) {
        cli_error(cmd, "%s", err.msg);
        rc = 2;
        goto done;
    }
    {
        cJSON *h = cJSON_CreateObject();
        char now[64];
        iso_now(now, sizeof now);
        cJSON_AddStringToObject(h, "type", "header");
        cJSON_AddStringToObject(h, "schema", "edgelm-sweep/1");
        cJSON_AddStringToObject(h, "kind", "llm");
        cJSON_AddStringToObject(h, "edgelm_version", EL_VERSION_STRING);
        cJSON_AddStringToObject(h, "created", now);
        cJSON_AddItemToObject(h, "machine", machine_json(el_profiler_n_cpus(p), el_profiler_mem_total_mb(p)));
        cJSON *mj = cJSON_AddObjectToObject(h, "model");
        if (mj) {
            cJSON_AddStringToObject(mj, "path", o.model);
            cJSON_AddStringToObject(mj, "desc", el_model_desc(m));
            cJSON_AddStringToObject(mj, "arch", el_model_hparams(m)->arch);
            cJSON_AddNumberToObject(mj, "n_params", (double)el_model_n_params(m));
            cJSON_AddNumberToObject(mj, "n_bytes", (double)el_model_n_bytes(m));
            cJSON_AddNumberToObject(mj, "n_ctx_train", n_ctx_train);
            cJSON_AddBoolToObject(mj, "synthetic", el_model_is_synthetic(m));
            cJSON_AddNumberToObject(mj, "load_s", t_load);
        }
        cJSON *sj = cJSON_AddObjectToObject(h, "settings");
        if (sj) {
            cJSON_AddStringToObject(sj, "mode", o.reload ? "reload" : "resident");
            cJSON_AddNumberToObject(sj, "threads", o.threads);
            cJSON *tl = cJSON_AddArrayToObject(sj, "tokens");
            for (int i = 0; tl && i < o.n_lengths; i++) cJSON_AddItemToArray(tl, cJSON_CreateNumber(o.lengths[i]));
            cJSON_AddNumberToObject(sj, "gen", o.gen);
            cJSON_AddNumberToObject(sj, "repeat", o.repeat);
            cJSON_AddNumberToObject(sj, "warmup", o.warmup);
            cJSON_AddNumberToObject(sj, "hz", o.hz);
            cJSON_AddNumberToObject(sj, "idle_s", o.idle_s);
            cJSON_AddNumberToObject(sj, "pause_s", o.pause_s);
            cJSON_AddNumberToObject(sj, "seed", (double)o.seed);
            cJSON_AddBoolToObject(sj, "shuffled", o.shuffle);
            cJSON_AddStringToObject(sj, "corpus", o.corpus);
            cJSON_AddNumberToObject(sj, "corpus_tokens", (double)cp.n);
            cJSON_AddStringToObject(sj, "kv_cache", "f16");
            if (trace_path[0]) cJSON_AddStringToObject(sj, "trace", trace_path);
        }
        cJSON *ej = cJSON_AddObjectToObject(h, "energy");
        if (ej) {
            cJSON_AddStringToObject(ej, "source", el_profiler_energy_name(p));
            cJSON_AddStringToObject(ej, "label", el_profiler_energy_label(p));
            cJSON_AddStringToObject(ej, "detail", el_profiler_energy_detail(p));
        }
        if (append(fd, h, o.out, &err) != 0) {
            cli_error(cmd, "%s", err.msg);
            goto done;
        }
    }
    if (el_profiler_start(p, &err) != 0) {
        cli_error(cmd, "%s", err.msg);
        goto done;
    }
    if (!o.quiet)
        fprintf(stderr, "edgelm sweep: %s, %d lengths x %d repeats, %s mode, %d threads; idle baseline %.1f s ...\n",
                el_model_desc(m), o.n_lengths, o.repeat, o.reload ? "reload" : "resident", o.threads, o.idle_s);
    el_profiler_wait_idle(p, (volatile const int *)&g_stop);
    if (!o.reload && !g_stop && el_profiler_run(p, &err) != 0) {
        cli_error(cmd, "%s", err.msg);
        goto stop;
    }
    el_baseline base;
    el_profiler_baseline_now(p, &base);
    double t_start = el_now();
    for (int k = 0; k < planned && !g_stop; k++) {
        int li = plan[k] / o.repeat, r = plan[k] % o.repeat;
        int len = o.lengths[li];
        make_prompt(&cp, len, r, o.repeat, ids);
        char name[64];
        snprintf(name, sizeof name, "m%d-t%d-r%d", k, len, r);
        timing tm = {0};
        memset(&tm, 0, sizeof tm);
        if (o.reload) {
            if (run_reload(&o, p, name, ids, len, &tm, &err) != 0) {
                if (g_stop) break;
                cli_error(cmd, "%s (tokens %d, repeat %d)", err.msg, len, r);
                end_reason = "error";
                goto stop;
            }
        } else {
            el_context_params cpar = el_context_default_params();
            cpar.n_ctx = len + o.gen;
            cpar.n_threads = o.threads;
            el_context *ctx = el_context_new_ex(m, &cpar, &err);
            if (!ctx) {
                cli_error(cmd, "%s", err.msg);
                end_reason = "error";
                goto stop;
            }
            int e = el_profiler_begin(p, name, &err);
            if (e == 0) e = run_prompt(ctx, ids, len, o.gen, &tm, &err);
            int e2 = el_profiler_end(p, name, &err);
            el_context_free(ctx);
            if (e || e2) {
                if (g_stop) break;
                cli_error(cmd, "%s (tokens %d, repeat %d)", err.msg, len, r);
                end_reason = "error";
                goto stop;
            }
        }
        el_window_stats ws;
        if (el_profiler_window_now(p, name, &ws, &err) != 0) {
            cli_error(cmd, "%s", err.msg);
            end_reason = "error";
            goto stop;
        }
        if (append(fd, measurement_json(k, k, len, r, &o, &tm, &ws, p, base.rss_mb), o.out, &err) != 0) {
            cli_error(cmd, "%s", err.msg);
            end_reason = "error";
            goto stop;
        }
        done_count++;
        if (!o.quiet) {
            double el = el_now() - t_start;
            double eta = el / done_count * (planned - done_count);
            fprintf(stderr,
                    "[%d/%d] tokens %5d repeat %d: %.2f s, CPU %.3f core*s, RAM %.1f MB*s, prefill %.1f t/s, "
                    "energy %.2f J (%s) | ETA %.0f s\n",
                    done_count, planned, len, r, ws.wall_s, ws.cpu_core_s, ws.ram_mb_s,
                    tm.prefill_s > 0 ? tm.n_prompt / tm.prefill_s : 0.0, ws.energy_j, el_profiler_energy_label(p), eta);
        }
        if (k + 1 < planned && o.pause_s > 0) sleep_s(o.pause_s);
    }
    if (g_stop) end_reason = g_stop == SIGINT ? "interrupted by SIGINT" : "interrupted by SIGTERM";
stop:
    {
        bool complete = done_count == planned && strcmp(end_reason, "finished") == 0;
        el_profiler_set_complete(p, complete);
        if (el_profiler_stop(p, &err) != 0) cli_error(cmd, "%s", err.msg);
        const el_profile_result *res = el_profiler_results(p);
        // energy known only now (an external meter's log): one record per window
        if (strcmp(res->energy_name, "meter") == 0) {
            for (int w = 0; w < res->n_windows; w++) {
                const el_window_stats *ws = &res->windows[w];
                int id;
                if (ws->source != EL_WIN_MARKER || sscanf(ws->name, "m%d-", &id) != 1) continue;
                cJSON *e = cJSON_CreateObject();
                cJSON_AddStringToObject(e, "type", "energy");
                cJSON_AddNumberToObject(e, "id", id);
                add_num(e, "energy_j", ws->energy_j);
                add_num(e, "energy_above_idle_j", ws->energy_above_idle_j);
                add_num(e, "mean_power_w", ws->mean_power_w);
                add_num(e, "energy_gap_s", ws->energy_gap_s);
                add_num(e, "energy_uncovered_s", ws->energy_uncovered_s);
                if (append(fd, e, o.out, &err) != 0) cli_error(cmd, "%s", err.msg);
            }
        }
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "type", "end");
        cJSON_AddBoolToObject(e, "complete", complete);
        cJSON_AddStringToObject(e, "reason", end_reason);
        cJSON_AddNumberToObject(e, "measurements", done_count);
        cJSON_AddNumberToObject(e, "planned", planned);
        cJSON *b = cJSON_AddObjectToObject(e, "baseline");
        if (b) {
            cJSON_AddNumberToObject(b, "samples", res->base.n);
            add_num(b, "duration_s", res->base.duration_s);
            add_num(b, "tree_cores", res->base.tree_cores);
            add_num(b, "system_cores", res->base.sys_cores);
            add_num(b, "rss_mb", res->base.rss_mb);
            add_num(b, "system_mem_mb", res->base.sys_mem_mb);
            add_num(b, "power_w", res->base.power_w);
        }
        add_num(e, "sampler_cpu_s", res->sampler_cpu_s);
        add_num(e, "sampler_overhead_pct_of_core",
                res->sampler_wall_s > 0 ? 100.0 * res->sampler_cpu_s / res->sampler_wall_s : NAN);
        cJSON_AddNumberToObject(e, "samples", (double)res->n_samples);
        if (append(fd, e, o.out, &err) != 0) cli_error(cmd, "%s", err.msg);
        if (!o.quiet)
            fprintf(stderr, "edgelm sweep: %d of %d measurements written to %s%s%s (%s)\n", done_count, planned, o.out,
                    trace_path[0] ? ", trace " : "", trace_path, end_reason);
        if (complete) rc = 0;
        else if (g_stop) rc = 128 + g_stop;
    }
done:
    if (fd >= 0) close(fd);
    el_profiler_free(p);
    free(cp.ids);
    free(ids);
    free(plan);
    el_model_free(m);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    return rc;
}
