/* cmd_report.c -- `edgelm report RUN_DIR -o report.html`: one self-contained
 * HTML page (inline SVG plots, tables, the machine) for a directory of sweeps. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "study_util.h"

#define MAX_RUNS 32

static void usage(FILE *f)
{
    fprintf(f,
            "usage: edgelm report RUN_DIR -o report.html [options]\n"
            "       edgelm report RUN.jsonl [OTHER.jsonl ...] -o report.html [options]\n"
            "\n"
            "A single self-contained HTML page (no external files or scripts) for the sweeps\n"
            "in RUN_DIR (every *.jsonl, in name order) or the run files given: the machine and\n"
            "the models; per run, the fitted law of each metric with its plot (measurements,\n"
            "fit and 95%% CI band), the quadratic term and the residuals; the sampler trace of\n"
            "one prompt's window; and, with two or more runs, the first run (the baseline)\n"
            "compared with each other run: reductions with CIs and overlay plots. Runs whose\n"
            "records carry 'pixels' also get the knee law.\n"
            "\n"
            "options:\n"
            "  -o, --output FILE    the HTML page (required)\n"
            "      --metric LIST    metrics (default cpu_auc,ram_auc,energy,wall)\n"
            "      --base NAME      which run is the baseline (file name; default: the first)\n"
            "      --boot N         bootstrap resamples (default 1000)\n"
            "      --svg-dir DIR    also write every plot as an SVG file into DIR\n"
            "  -h, --help           this help\n");
}

/* ---- a growable output buffer --------------------------------------------------- */

typedef struct buf {
    char *p;
    size_t n, cap;
    bool oom;
} buf;

static void put(buf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 65536;
        while (nc < b->n + n + 1) nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void puts_(buf *b, const char *s) { put(b, s, strlen(s)); }

static void printf_(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void printf_(buf *b, const char *fmt, ...)
{
    char tmp[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void esc(buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': puts_(b, "&amp;"); break;
        case '<': puts_(b, "&lt;"); break;
        case '>': puts_(b, "&gt;"); break;
        case '"': puts_(b, "&quot;"); break;
        case '\'': puts_(b, "&#39;"); break;
        default: put(b, s, 1);
        }
    }
}

/* ---- the page ------------------------------------------------------------------ */

static const char *CSS =
    "body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1400px;"
    "color:#222;padding:0 1em}h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}"
    "table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:right;"
    "font-variant-numeric:tabular-nums}th{background:#f4f4f4}td.l,th.l{text-align:left}.plots{display:flex;"
    "flex-wrap:wrap;gap:12px}.plot{border:1px solid #eee}.note{color:#666;font-size:.9em}.warn{color:#a40}"
    "code{background:#f4f4f4;padding:0 .2em}";

/* After load: every plot must have a drawn, non-empty box; the result goes
 * into #render-check for headless tests (and a human sees it at the end). */
static const char *JS =
    "document.addEventListener('DOMContentLoaded',function(){var s=document.querySelectorAll('svg.el-plot'),ok=0;"
    "for(var i=0;i<s.length;i++){var b=s[i].getBBox(),m=s[i].querySelectorAll('circle,path,polyline,polygon').length;"
    "if(b.width>0&&b.height>0&&m>0)ok++;}var c=document.getElementById('render-check');c.setAttribute('data-plots',"
    "s.length);c.setAttribute('data-ok',ok);c.textContent=ok+' of '+s.length+' plots rendered';});";

typedef struct run_entry {
    char path[1024], label[256];
    el_run r;
} run_entry;

static void add_svg(buf *b, const char *svg, const char *svg_dir, const char *file_stem, int *n_plots)
{
    if (!svg) return;
    puts_(b, "<div class=\"plot\">");
    puts_(b, svg);
    puts_(b, "</div>\n");
    (*n_plots)++;
    if (svg_dir) {
        char p[2048];
        snprintf(p, sizeof p, "%s/%s.svg", svg_dir, file_stem);
        FILE *f = fopen(p, "w");
        if (f) {
            fputs(svg, f);
            fclose(f);
        }
    }
}

static void header_row(buf *b, const char *k, const char *v)
{
    if (!v) return;
    puts_(b, "<tr><th class=\"l\">");
    esc(b, k);
    puts_(b, "</th><td class=\"l\">");
    esc(b, v);
    puts_(b, "</td></tr>\n");
}

static void machine_section(buf *b, const el_run *r)
{
    char t[64];
    puts_(b, "<h2>Machine</h2><table>\n");
    header_row(b, "CPU", el_run_header_str(r, "machine", "cpu"));
    header_row(b, "instruction sets", el_run_header_str(r, "machine", "isa"));
    double v = el_run_header_num(r, "machine", "n_cpus");
    if (isfinite(v)) {
        snprintf(t, sizeof t, "%g logical, %g physical", v, el_run_header_num(r, "machine", "physical_cores"));
        header_row(b, "cores", t);
    }
    v = el_run_header_num(r, "machine", "mem_total_mb");
    if (isfinite(v)) {
        snprintf(t, sizeof t, "%.1f GB", v / 1024);
        header_row(b, "memory", t);
    }
    header_row(b, "kernel", el_run_header_str(r, "machine", "kernel"));
    header_row(b, "host", el_run_header_str(r, "machine", "hostname"));
    header_row(b, "edgelm", el_run_header_str(r, NULL, "edgelm_version"));
    puts_(b, "</table>\n");
}

static void run_table(buf *b, run_entry *runs, int n)
{
    puts_(b, "<h2>Runs</h2><table><tr><th class=\"l\">run</th><th class=\"l\">model</th><th>params</th>"
             "<th class=\"l\">mode</th><th>threads</th><th>measurements</th><th class=\"l\">energy</th>"
             "<th class=\"l\">state</th><th class=\"l\">created</th></tr>\n");
    for (int i = 0; i < n; i++) {
        const el_run *r = &runs[i].r;
        puts_(b, "<tr><td class=\"l\">");
        esc(b, runs[i].label);
        puts_(b, "</td><td class=\"l\">");
        esc(b, el_run_header_str(r, "model", "desc") ? el_run_header_str(r, "model", "desc") : "?");
        const cJSON *syn = r->header ? cJSON_GetObjectItemCaseSensitive(
                                           cJSON_GetObjectItemCaseSensitive((cJSON *)r->header, "model"), "synthetic")
                                     : NULL;
        if (cJSON_IsTrue(syn)) puts_(b, " <span class=\"warn\">(SYNTHETIC weights: costs real, text not)</span>");
        printf_(b, "</td><td>%.3gM</td><td class=\"l\">", el_run_header_num(r, "model", "n_params") / 1e6);
        esc(b, el_run_header_str(r, "settings", "mode") ? el_run_header_str(r, "settings", "mode") : "?");
        printf_(b, "</td><td>%g</td><td>%d</td><td class=\"l\">", el_run_header_num(r, "settings", "threads"), r->n_meas);
        esc(b, el_run_header_str(r, "energy", "source") ? el_run_header_str(r, "energy", "source") : "?");
        puts_(b, " (");
        esc(b, el_run_energy_label(r) ? el_run_energy_label(r) : "?");
        puts_(b, ")</td><td class=\"l\">");
        puts_(b, r->complete ? "complete" : "<span class=\"warn\">incomplete</span>");
        puts_(b, "</td><td class=\"l\">");
        esc(b, el_run_header_str(r, NULL, "created") ? el_run_header_str(r, NULL, "created") : "");
        puts_(b, "</td></tr>\n");
    }
    puts_(b, "</table>\n");
    const char *det = el_run_header_str(&runs[0].r, "energy", "detail");
    if (det) {
        puts_(b, "<p class=\"note\">Energy source of the first run: ");
        esc(b, det);
        puts_(b, "</p>\n");
    }
}

static void fit_table_row(buf *b, const study_fit *f)
{
    char x1[32], x2[32], x3[32], x4[32], x5[32], x6[32], x7[32];
    if (f->knee) {
        printf_(b, "<tr><td class=\"l\">%s</td><td class=\"l\">%s</td><td>%s [%s, %s]</td><td>%s [%s, %s]</td><td>%s</td>"
                   "<td class=\"l\">knee law; exponent %s</td></tr>\n",
                f->metric, f->unit, study_num(x1, 32, f->kf.knee.est), study_num(x2, 32, f->kf.knee.lo),
                study_num(x3, 32, f->kf.knee.hi), study_num(x4, 32, f->kf.plateau.est), study_num(x5, 32, f->kf.plateau.lo),
                study_num(x6, 32, f->kf.plateau.hi), study_num(x7, 32, f->kf.r2), study_num(x1, 32, f->kf.alpha.est));
        return;
    }
    const el_linear_fit *l = &f->lin;
    printf_(b, "<tr><td class=\"l\">%s</td><td class=\"l\">%s</td><td>%s [%s, %s]</td><td>%s [%s, %s]</td><td>%.4f</td>",
            f->metric, f->unit, study_num(x1, 32, l->a.est), study_num(x2, 32, l->a.lo), study_num(x3, 32, l->a.hi),
            study_num(x4, 32, l->b.est), study_num(x5, 32, l->b.lo), study_num(x6, 32, l->b.hi), l->r2);
    if (isfinite(l->c))
        printf_(b, "<td class=\"l\">c = %s (p = %.2g), %.1f%% of the cost at %g</td></tr>\n", study_num(x7, 32, l->c),
                l->c_p, 100 * l->quad_share, l->x_max);
    else puts_(b, "<td class=\"l\">-</td></tr>\n");
}

/* the window of the median-length prompt, for the trace plot */
static int pick_window(const el_run *r, double *t0, double *t1, char *name, size_t cap)
{
    if (r->n_meas == 0) return -1;
    double *xs = malloc(sizeof *xs * (size_t)r->n_meas);
    if (!xs) return -1;
    int n = 0;
    for (int i = 0; i < r->n_meas; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive((cJSON *)r->meas[i], "tokens");
        if (cJSON_IsNumber(v)) xs[n++] = v->valuedouble;
    }
    double target = 0;
    if (n) {
        for (int i = 1; i < n; i++)
            for (int j = i; j > 0 && xs[j] < xs[j - 1]; j--) {
                double t = xs[j];
                xs[j] = xs[j - 1];
                xs[j - 1] = t;
            }
        target = xs[n / 2];
    }
    free(xs);
    for (int i = 0; i < r->n_meas; i++) {
        const cJSON *m = (cJSON *)r->meas[i];
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, "tokens");
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(m, "t_start_s");
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(m, "t_end_s");
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(m, "window");
        if (cJSON_IsNumber(v) && v->valuedouble == target && cJSON_IsNumber(a) && cJSON_IsNumber(e)) {
            *t0 = a->valuedouble;
            *t1 = e->valuedouble;
            snprintf(name, cap, "%s", cJSON_IsString(w) ? w->valuestring : "?");
            return 0;
        }
    }
    return -1;
}

static void trace_path_of(const run_entry *re, char *out, size_t cap)
{
    out[0] = 0;
    const char *t = el_run_header_str(&re->r, "settings", "trace");
    if (!t) return;
    if (access(t, R_OK) == 0) {
        snprintf(out, cap, "%s", t);
        return;
    }
    // moved with its run file: look beside it
    const char *base = strrchr(t, '/');
    base = base ? base + 1 : t;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", re->path);
    char *sl = strrchr(dir, '/');
    if (sl) *sl = 0;
    else snprintf(dir, sizeof dir, ".");
    snprintf(out, cap, "%s/%s", dir, base);
    if (access(out, R_OK) != 0) out[0] = 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int cmd_report(int argc, char **argv)
{
    const char *cmd = "report";
    const char *out = NULL, *metrics = "cpu_auc,ram_auc,energy,wall", *base_name = NULL, *svg_dir = NULL;
    const char *inputs[MAX_RUNS];
    int n_in = 0;
    long long boot = 1000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (cli_is(a, "-h", "--help")) {
            usage(stdout);
            return 0;
        } else if (cli_is(a, "-o", "--output")) {
            if (!(out = cli_value(cmd, argc, argv, &i))) return 2;
        } else if (cli_is(a, "--metric", "-M")) {
            if (!(metrics = cli_value(cmd, argc, argv, &i))) return 2;
        } else if (cli_is(a, "--base", NULL)) {
            if (!(base_name = cli_value(cmd, argc, argv, &i))) return 2;
        } else if (cli_is(a, "--svg-dir", NULL)) {
            if (!(svg_dir = cli_value(cmd, argc, argv, &i))) return 2;
        } else if (cli_is(a, "--boot", NULL)) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || cli_int(cmd, a, v, 0, 1000000, &boot)) return 2;
        } else if (a[0] == '-' && a[1]) {
            return cli_unknown(cmd, a);
        } else if (n_in < MAX_RUNS) {
            inputs[n_in++] = a;
        } else {
            cli_error(cmd, "at most %d run files", MAX_RUNS);
            return 2;
        }
    }
    if (n_in == 0) return cli_missing(cmd, "RUN_DIR (or run files)");
    if (!out) return cli_missing(cmd, "-o report.html");

    // the run files
    char *files[MAX_RUNS];
    int n_files = 0;
    for (int k = 0; k < n_in; k++) {
        struct stat st;
        if (stat(inputs[k], &st) != 0) {
            cli_error(cmd, "%s: %s", inputs[k], strerror(errno));
            for (int j = 0; j < n_files; j++) free(files[j]);
            return 1;
        }
        if (S_ISDIR(st.st_mode)) {
            DIR *d = opendir(inputs[k]);
            if (!d) {
                cli_error(cmd, "%s: cannot read directory: %s", inputs[k], strerror(errno));
                for (int j = 0; j < n_files; j++) free(files[j]);
                return 1;
            }
            struct dirent *de;
            int first = n_files;
            while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                if (l > 6 && strcmp(de->d_name + l - 6, ".jsonl") == 0 && n_files < MAX_RUNS) {
                    size_t pl = strlen(inputs[k]) + l + 2;
                    files[n_files] = malloc(pl);
                    if (files[n_files]) snprintf(files[n_files++], pl, "%s/%s", inputs[k], de->d_name);
                }
            }
            closedir(d);
            qsort(files + first, (size_t)(n_files - first), sizeof *files, cmp_str);
        } else {
            files[n_files] = strdup(inputs[k]);
            if (files[n_files]) n_files++;
        }
    }
    if (n_files == 0) {
        cli_error(cmd, "no *.jsonl run files in %s", inputs[0]);
        return 1;
    }
    run_entry *runs = calloc((size_t)n_files, sizeof *runs);
    if (!runs) {
        cli_error(cmd, "out of memory");
        return 1;
    }
    el_err err;
    int n_runs = 0, rc = 0;
    for (int k = 0; k < n_files; k++) {
        run_entry *re = &runs[n_runs];
        snprintf(re->path, sizeof re->path, "%s", files[k]);
        const char *sl = strrchr(files[k], '/');
        snprintf(re->label, sizeof re->label, "%s", sl ? sl + 1 : files[k]);
        if (el_run_load(files[k], &re->r, &err) != 0) {
            cli_error(cmd, "%s", err.msg);
            rc = 1;
            continue;
        }
        n_runs++;
    }
    for (int k = 0; k < n_files; k++) free(files[k]);
    if (n_runs == 0) {
        free(runs);
        return 1;
    }
    if (base_name) {  // move the baseline first
        int bi = -1;
        for (int k = 0; k < n_runs; k++)
            if (strcmp(runs[k].label, base_name) == 0 || strcmp(runs[k].path, base_name) == 0) bi = k;
        if (bi < 0) {
            cli_error(cmd, "--base %s: no such run among the inputs", base_name);
            for (int k = 0; k < n_runs; k++) el_run_free(&runs[k].r);
            free(runs);
            return 2;
        }
        run_entry t = runs[0];
        runs[0] = runs[bi];
        runs[bi] = t;
    }
    if (svg_dir) mkdir(svg_dir, 0755);

    buf b = {0};
    int n_plots = 0;
    char now[64];
    time_t tt = time(NULL);
    struct tm tmv;
    gmtime_r(&tt, &tmv);
    strftime(now, sizeof now, "%Y-%m-%d %H:%M UTC", &tmv);
    puts_(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>edgelm report</title><style>");
    puts_(&b, CSS);
    puts_(&b, "</style><script>");
    puts_(&b, JS);
    puts_(&b, "</script></head><body>\n<h1>edgelm report</h1>\n");
    printf_(&b, "<p class=\"note\">Made by edgelm %s on %s from %d run file%s. Costs are measured by the profiler "
                "(CPU and RAM AUC above the idle baseline, trapezoidal rule); energy is labelled measured or "
                "estimated; 95%% confidence intervals come from a bootstrap over the repeats.</p>\n",
            EL_VERSION_STRING, now, n_runs, n_runs == 1 ? "" : "s");
    machine_section(&b, &runs[0].r);
    run_table(&b, runs, n_runs);

    char list[512];
    snprintf(list, sizeof list, "%s", metrics);
    const char *mlist[16];
    int n_m = 0;
    char *save = NULL;
    for (char *tok = strtok_r(list, ",", &save); tok && n_m < 16; tok = strtok_r(NULL, ",", &save))
        mlist[n_m++] = el_metric_name(tok);

    for (int k = 0; k < n_runs; k++) {
        run_entry *re = &runs[k];
        puts_(&b, "<h2>");
        esc(&b, re->label);
        puts_(&b, ": ");
        esc(&b, el_run_header_str(&re->r, "model", "desc") ? el_run_header_str(&re->r, "model", "desc") : "");
        puts_(&b, "</h2>\n");
        // knee law when the run has pixels (images), else linear in tokens
        bool has_pixels = re->r.n_meas > 0 && cJSON_GetObjectItemCaseSensitive((cJSON *)re->r.meas[0], "pixels");
        const char *xkey = has_pixels ? "pixels" : "tokens";
        puts_(&b, "<table><tr><th class=\"l\">metric</th><th class=\"l\">unit</th>");
        puts_(&b, has_pixels ? "<th>knee [95% CI]</th><th>plateau [95% CI]</th>"
                             : "<th>a (intercept) [95% CI]</th><th>b (slope) [95% CI]</th>");
        puts_(&b, "<th>R&sup2;</th><th class=\"l\">quadratic term</th></tr>\n");
        study_fit fits[16];
        bool ok[16];
        for (int i = 0; i < n_m; i++) {
            ok[i] = study_fit_run(&re->r, xkey, mlist[i], has_pixels, (int)boot, 1, &fits[i], &err) == 0;
            if (ok[i]) fit_table_row(&b, &fits[i]);
            else {
                puts_(&b, "<tr><td class=\"l\">");
                esc(&b, mlist[i]);
                puts_(&b, "</td><td class=\"l\" colspan=\"5\">");
                esc(&b, err.msg);
                puts_(&b, "</td></tr>\n");
            }
        }
        puts_(&b, "</table>\n<div class=\"plots\">\n");
        for (int i = 0; i < n_m; i++) {
            if (!ok[i]) continue;
            char title[300], stem[300];
            snprintf(title, sizeof title, "%s: %s vs %s", re->label, mlist[i], xkey);
            snprintf(stem, sizeof stem, "run%d-%s", k, mlist[i]);
            char *svg = study_fit_svg(&fits[i], title, &err);
            if (!svg) cli_error(cmd, "plot %s: %s", title, err.msg);
            add_svg(&b, svg, svg_dir, stem, &n_plots);
            free(svg);
        }
        // the sampler trace of one window
        char tp[2048], wname[128];
        double t0, t1;
        trace_path_of(re, tp, sizeof tp);
        if (tp[0] && pick_window(&re->r, &t0, &t1, wname, sizeof wname) == 0) {
            for (int which = 0; which < 2; which++) {
                char title[300], stem[64];
                snprintf(title, sizeof title, "sampler trace: %s of window %s", which ? "RSS" : "CPU", wname);
                snprintf(stem, sizeof stem, "run%d-trace-%s", k, which ? "rss" : "cpu");
                char *svg = study_trace_svg(tp, t0, t1, title, which, &err);
                if (!svg) cli_error(cmd, "trace plot: %s", err.msg);
                add_svg(&b, svg, svg_dir, stem, &n_plots);
                free(svg);
            }
        }
        puts_(&b, "</div>\n");
        if (k > 0) {
            // compared with the baseline
            printf_(&b, "<h3>");
            esc(&b, re->label);
            puts_(&b, " compared with the baseline ");
            esc(&b, runs[0].label);
            puts_(&b, "</h3>\n<table><tr><th class=\"l\">metric</th><th>total reduction</th><th>intercept reduction</th>"
                      "<th>slope reduction</th></tr>\n");
            for (int i = 0; i < n_m + 2; i++) {
                const char *mname = i < n_m ? mlist[i] : i == n_m ? "prefill_tps" : "decode_tps";
                study_cmp c;
                if (study_compare(&runs[0].r, &re->r, xkey, mname, (int)boot, 1, &c, &err) != 0) continue;
                el_ci t = c.c.total_pct;
                bool thr = i >= n_m;
                if (thr) {
                    double lo = -t.hi, hi = -t.lo;
                    t.est = -t.est;
                    t.lo = lo;
                    t.hi = hi;
                }
                printf_(&b, "<tr><td class=\"l\">%s%s</td><td>%+.1f%% [%+.1f, %+.1f]</td>", mname,
                        thr ? " (change, + = faster)" : "", t.est, t.lo, t.hi);
                if (thr) puts_(&b, "<td>-</td><td>-</td></tr>\n");
                else
                    printf_(&b, "<td>%+.1f%% [%+.1f, %+.1f]</td><td>%+.1f%% [%+.1f, %+.1f]</td></tr>\n",
                            c.c.intercept_pct.est, c.c.intercept_pct.lo, c.c.intercept_pct.hi, c.c.slope_pct.est,
                            c.c.slope_pct.lo, c.c.slope_pct.hi);
            }
            puts_(&b, "</table>\n<div class=\"plots\">\n");
            if (!has_pixels) {
                for (int i = 0; i < n_m; i++) {
                    if (!ok[i]) continue;
                    study_fit bf;
                    if (study_fit_run(&runs[0].r, xkey, mlist[i], false, 0, 1, &bf, &err) != 0) continue;
                    char title[300], stem[300];
                    snprintf(title, sizeof title, "%s: base vs %s", mlist[i], re->label);
                    snprintf(stem, sizeof stem, "overlay%d-%s", k, mlist[i]);
                    char *svg = study_overlay_svg(&bf, runs[0].label, &fits[i], re->label, title, &err);
                    add_svg(&b, svg, svg_dir, stem, &n_plots);
                    free(svg);
                    study_fit_free(&bf);
                }
            }
            puts_(&b, "</div>\n");
        }
        for (int i = 0; i < n_m; i++)
            if (ok[i]) study_fit_free(&fits[i]);
    }
    printf_(&b, "<p id=\"render-check\" class=\"note\" data-plots=\"%d\" data-ok=\"0\">%d plots (this line changes "
                "when the page's check has run)</p>\n</body></html>\n",
            n_plots, n_plots);
    for (int k = 0; k < n_runs; k++) el_run_free(&runs[k].r);
    free(runs);
    if (b.oom) {
        free(b.p);
        cli_error(cmd, "out of memory building the report");
        return 1;
    }
    // write to a temporary name, then rename: never a half-written report
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp%d", out, (int)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        cli_error(cmd, "%s: cannot write: %s", out, strerror(errno));
        free(b.p);
        return 1;
    }
    size_t w = fwrite(b.p, 1, b.n, f);
    int cerr = fclose(f);
    free(b.p);
    if (w != b.n || cerr != 0 || rename(tmp, out) != 0) {
        cli_error(cmd, "%s: write failed: %s", out, strerror(errno));
        unlink(tmp);
        return 1;
    }
    fprintf(stderr, "edgelm report: wrote %s (%d plots, %d run%s)\n", out, n_plots, n_runs, n_runs == 1 ? "" : "s");
    return rc;
}
