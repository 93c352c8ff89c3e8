/* study_util.c -- fits, tables and plots shared by fit, compare and report. */
#include "study_util.h"
#include "cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *study_num(char *buf, size_t cap, double v)
{
    if (!isfinite(v)) snprintf(buf, cap, "-");
    else snprintf(buf, cap, "%.4g", v);
    return buf;
}

void study_fit_free(study_fit *f)
{
    free(f->x);
    free(f->y);
    free(f->resid);
    memset(f, 0, sizeof *f);
}

int study_fit_run(const el_run *r, const char *xkey, const char *metric, bool knee, int n_boot, uint64_t seed,
                  study_fit *f, el_err *err)
{
    memset(f, 0, sizeof *f);
    f->metric = metric;
    f->xkey = xkey;
    f->unit = el_metric_unit(metric);
    f->knee = knee;
    f->n_boot = n_boot;
    f->seed = seed;
    if (el_run_series(r, xkey, metric, &f->x, &f->y, &f->n, err) != 0) return -1;
    if (f->n == 0) {
        study_fit_free(f);
        return el_errf(err, "%s: no measurement has finite values of both %s and %s", r->name, xkey, metric);
    }
    int rc;
    if (knee) {
        rc = el_fit_knee(f->x, f->y, f->n, n_boot, seed, &f->kf, err);
    } else {
        f->resid = malloc(sizeof *f->resid * (size_t)f->n);
        if (!f->resid) rc = el_errf(err, "out of memory");
        else rc = el_fit_linear(f->x, f->y, f->n, n_boot, seed, f->resid, &f->lin, err);
    }
    if (rc != 0) {
        el_err_prefix(err, "%s: %s", r->name, metric);
        study_fit_free(f);
        f->metric = metric;
    }
    return rc;
}

#define add_num el_json_add_num

static void add_ci(cJSON *o, const char *k, el_ci c) { el_json_add_ci(o, k, c.est, c.lo, c.hi); }

/* mean y per distinct x (sorted), into malloc'd arrays */
static int group_means(const double *x, const double *y, int n, double **gx, double **gy, int **gn)
{
    *gx = malloc(sizeof **gx * (size_t)(n + 1));
    *gy = malloc(sizeof **gy * (size_t)(n + 1));
    *gn = malloc(sizeof **gn * (size_t)(n + 1));
    if (!*gx || !*gy || !*gn) return -1;
    int m = 0;
    for (int i = 0; i < n; i++) {
        int k = 0;
        while (k < m && (*gx)[k] != x[i]) k++;
        if (k == m) {
            (*gx)[m] = x[i];
            (*gy)[m] = 0;
            (*gn)[m] = 0;
            m++;
        }
        (*gy)[k] += y[i];
        (*gn)[k]++;
    }
    for (int k = 0; k < m; k++) (*gy)[k] /= (*gn)[k];
    // insertion sort by x
    for (int i = 1; i < m; i++)
        for (int j = i; j > 0 && (*gx)[j] < (*gx)[j - 1]; j--) {
            double t = (*gx)[j];
            (*gx)[j] = (*gx)[j - 1];
            (*gx)[j - 1] = t;
            t = (*gy)[j];
            (*gy)[j] = (*gy)[j - 1];
            (*gy)[j - 1] = t;
            int u = (*gn)[j];
            (*gn)[j] = (*gn)[j - 1];
            (*gn)[j - 1] = u;
        }
    return m;
}

void *study_fit_json(const study_fit *f)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "metric", f->metric);
    cJSON_AddStringToObject(o, "unit", f->unit);
    cJSON_AddStringToObject(o, "x", f->xkey);
    cJSON_AddStringToObject(o, "law", f->knee ? "knee" : "linear");
    cJSON_AddNumberToObject(o, "n", f->n);
    if (f->knee) {
        const el_knee_fit *k = &f->kf;
        cJSON_AddNumberToObject(o, "n_x", k->n_x);
        cJSON_AddNumberToObject(o, "bootstrap", k->n_boot);
        add_ci(o, "knee", k->knee);
        add_ci(o, "plateau", k->plateau);
        add_ci(o, "alpha", k->alpha);
        add_num(o, "r2", k->r2);
        add_num(o, "r2_log", k->r2_log);
        add_num(o, "rmse", k->rmse);
        cJSON_AddNumberToObject(o, "n_below_knee", k->n_below);
        return o;
    }
    const el_linear_fit *l = &f->lin;
    cJSON_AddNumberToObject(o, "n_x", l->n_x);
    cJSON_AddNumberToObject(o, "bootstrap", l->n_boot);
    add_ci(o, "a", l->a);
    add_ci(o, "b", l->b);
    add_num(o, "a_se", l->a_se);
    add_num(o, "b_se", l->b_se);
    add_num(o, "r2", l->r2);
    add_num(o, "rmse", l->rmse);
    cJSON *q = cJSON_AddObjectToObject(o, "quadratic");
    if (q) {
        add_num(q, "a", l->a2);
        add_num(q, "b", l->b2);
        add_num(q, "c", l->c);
        add_num(q, "c_se", l->c_se);
        add_num(q, "t", l->c_t);
        add_num(q, "p", l->c_p);
        add_num(q, "r2", l->r2_quad);
        add_num(q, "share_at_max_x", l->quad_share);
    }
    cJSON *res = cJSON_AddArrayToObject(o, "residuals");
    for (int i = 0; res && f->resid && i < f->n; i++) {
        cJSON *r = cJSON_CreateObject();
        add_num(r, "x", f->x[i]);
        add_num(r, "y", f->y[i]);
        add_num(r, "fitted", f->y[i] - f->resid[i]);
        add_num(r, "residual", f->resid[i]);
        cJSON_AddItemToArray(res, r);
    }
    return o;
}

void study_fit_print(FILE *out, const el_run *r, const study_fit *f)
{
    char b1[32], b2[32], b3[32];
    fprintf(out, "%s vs %s (%s): %s law, %d measurements", f->metric, f->xkey, f->unit[0] ? f->unit : "-",
            f->knee ? "knee" : "linear", f->n);
    const char *lab = el_run_energy_label(r);
    if (strncmp(f->metric, "energy", 6) == 0 && lab) fprintf(out, " [energy %s]", lab);
    fprintf(out, "  (%s%s)\n", r->name, r->complete ? "" : ", INCOMPLETE run");
    if (f->knee) {
        const el_knee_fit *k = &f->kf;
        fprintf(out, "  %-26s %12s  [%s, %s]\n", "knee (x)", study_num(b1, 32, k->knee.est), study_num(b2, 32, k->knee.lo),
                study_num(b3, 32, k->knee.hi));
        fprintf(out, "  %-26s %12s  [%s, %s] %s\n", "plateau", study_num(b1, 32, k->plateau.est),
                study_num(b2, 32, k->plateau.lo), study_num(b3, 32, k->plateau.hi), f->unit);
        fprintf(out, "  %-26s %12s  [%s, %s]\n", "power-law exponent below", study_num(b1, 32, k->alpha.est),
                study_num(b2, 32, k->alpha.lo), study_num(b3, 32, k->alpha.hi));
        fprintf(out, "  %-26s %12s  (log: %s), rmse %s; %d of %d points below the knee; 95%% CI from %d bootstrap resamples\n",
                "R^2", study_num(b1, 32, k->r2), study_num(b2, 32, k->r2_log), study_num(b3, 32, k->rmse), k->n_below,
                k->n, k->n_boot);
        return;
    }
    const el_linear_fit *l = &f->lin;
    fprintf(out, "  %-26s %12s  [%s, %s] %s\n", "a (intercept)", study_num(b1, 32, l->a.est), study_num(b2, 32, l->a.lo),
            study_num(b3, 32, l->a.hi), f->unit);
    fprintf(out, "  %-26s %12s  [%s, %s] %s per %s\n", "b (slope)", study_num(b1, 32, l->b.est),
            study_num(b2, 32, l->b.lo), study_num(b3, 32, l->b.hi), f->unit, f->xkey);
    fprintf(out, "  %-26s %12s  rmse %s; 95%% CI %s\n", "R^2", study_num(b1, 32, l->r2), study_num(b2, 32, l->rmse),
            l->n_boot ? "from a bootstrap over repeats" : "from Student's t (no repeats)");
    if (isfinite(l->c))
        fprintf(out, "  %-26s %12s  +- %s (t = %.2f, p = %.3g), %.1f%% of the cost at %s = %g\n", "quadratic term c",
                study_num(b1, 32, l->c), study_num(b2, 32, l->c_se), l->c_t, l->c_p, 100 * l->quad_share, f->xkey,
                l->x_max);
    double *gx, *gy;
    int *gn;
    int m = group_means(f->x, f->y, f->n, &gx, &gy, &gn);
    if (m > 0) {
        fprintf(out, "  %10s %4s %12s %12s %10s\n", f->xkey, "n", "mean", "fitted", "resid %");
        for (int k = 0; k < m; k++) {
            double fit = l->a.est + l->b.est * gx[k];
            fprintf(out, "  %10g %4d %12s %12s %9.1f%%\n", gx[k], gn[k], study_num(b1, 32, gy[k]), study_num(b2, 32, fit),
                    fit != 0 ? 100 * (gy[k] - fit) / fit : 0.0);
        }
    }
    free(gx);
    free(gy);
    free(gn);
}

static char *title_with_unit(char *buf, size_t cap, const study_fit *f)
{
    snprintf(buf, cap, "%s%s%s%s", f->metric, f->unit[0] ? " (" : "", f->unit, f->unit[0] ? ")" : "");
    return buf;
}

#define NLINE 64

char *study_fit_svg(const study_fit *f, const char *title, el_err *err)
{
    double lx[NLINE], ly[NLINE], lo[NLINE], hi[NLINE];
    double x0 = INFINITY, x1 = -INFINITY;
    for (int i = 0; i < f->n; i++) {
        if (f->x[i] < x0) x0 = f->x[i];
        if (f->x[i] > x1) x1 = f->x[i];
    }
    el_plot_series s[3];
    memset(s, 0, sizeof s);
    char ylabel[160], lab[160];
    el_plot p;
    memset(&p, 0, sizeof p);
    p.title = title;
    p.xlabel = f->xkey;
    p.ylabel = title_with_unit(ylabel, sizeof ylabel, f);
    p.vline_x = p.vspan_lo = p.vspan_hi = NAN;
    s[0].label = "measured";
    s[0].kind = EL_SERIES_POINTS;
    s[0].x = f->x;
    s[0].y = f->y;
    s[0].n = f->n;
    s[0].color = "#1f77b4";
    if (f->knee) {
        // log-log: power law below the knee, plateau above
        p.xlog = p.ylog = true;
        for (int i = 0; i < NLINE; i++) {
            lx[i] = x0 * pow(x1 / x0, (double)i / (NLINE - 1));
            ly[i] = el_knee_eval(&f->kf, lx[i]);
        }
        snprintf(lab, sizeof lab, "knee fit: plateau %.4g, exponent %.3g", f->kf.plateau.est, f->kf.alpha.est);
        s[1].label = lab;
        s[1].kind = EL_SERIES_LINE;
        s[1].x = lx;
        s[1].y = ly;
        s[1].n = NLINE;
        s[1].color = "#d62728";
        p.vline_x = f->kf.knee.est;
        p.vspan_lo = f->kf.knee.lo;
        p.vspan_hi = f->kf.knee.hi;
        p.vline_label = "knee (95% CI shaded)";
        p.series = s;
        p.n_series = 2;
        return el_plot_svg(&p, err);
    }
    for (int i = 0; i < NLINE; i++) {
        lx[i] = x0 + (x1 - x0) * i / (NLINE - 1);
        ly[i] = f->lin.a.est + f->lin.b.est * lx[i];
    }
    if (el_linear_band(f->x, f->y, f->n, f->n_boot, f->seed, lx, NLINE, lo, hi, err) != 0) return NULL;
    snprintf(lab, sizeof lab, "fit: %.4g + %.4g x, R\xc2\xb2 = %.4f", f->lin.a.est, f->lin.b.est, f->lin.r2);
    s[1].label = "95% CI";
    s[1].kind = EL_SERIES_BAND;
    s[1].x = lx;
    s[1].y_lo = lo;
    s[1].y_hi = hi;
    s[1].n = NLINE;
    s[1].color = "#d62728";
    s[2].label = lab;
    s[2].kind = EL_SERIES_LINE;
    s[2].x = lx;
    s[2].y = ly;
    s[2].n = NLINE;
    s[2].color = "#d62728";
    p.series = s;
    p.n_series = 3;
    return el_plot_svg(&p, err);
}

char *study_overlay_svg(const study_fit *a, const char *la, const study_fit *b, const char *lb, const char *title,
                        el_err *err)
{
    const study_fit *fs[2] = {a, b};
    const char *labs[2] = {la, lb};
    static const char *col[2] = {"#1f77b4", "#ff7f0e"};
    double lx[2][NLINE], ly[2][NLINE];
    char lab[2][200], ylabel[160];
    el_plot_series s[4];
    memset(s, 0, sizeof s);
    for (int k = 0; k < 2; k++) {
        const study_fit *f = fs[k];
        double x0 = INFINITY, x1 = -INFINITY;
        for (int i = 0; i < f->n; i++) {
            if (f->x[i] < x0) x0 = f->x[i];
            if (f->x[i] > x1) x1 = f->x[i];
        }
        for (int i = 0; i < NLINE; i++) {
            lx[k][i] = x0 + (x1 - x0) * i / (NLINE - 1);
            ly[k][i] = f->lin.a.est + f->lin.b.est * lx[k][i];
        }
        snprintf(lab[k], sizeof lab[k], "%s: %.4g + %.4g x", labs[k], f->lin.a.est, f->lin.b.est);
        s[2 * k].label = NULL;
        s[2 * k].kind = EL_SERIES_POINTS;
        s[2 * k].x = f->x;
        s[2 * k].y = f->y;
        s[2 * k].n = f->n;
        s[2 * k].color = col[k];
        s[2 * k + 1].label = lab[k];
        s[2 * k + 1].kind = EL_SERIES_LINE;
        s[2 * k + 1].x = lx[k];
        s[2 * k + 1].y = ly[k];
        s[2 * k + 1].n = NLINE;
        s[2 * k + 1].color = col[k];
        s[2 * k + 1].dashed = k == 1;
    }
    el_plot p;
    memset(&p, 0, sizeof p);
    p.title = title;
    p.xlabel = a->xkey;
    p.ylabel = title_with_unit(ylabel, sizeof ylabel, a);
    p.vline_x = p.vspan_lo = p.vspan_hi = NAN;
    p.series = s;
    p.n_series = 4;
    return el_plot_svg(&p, err);
}

int study_compare(const el_run *base, const el_run *other, const char *xkey, const char *metric, int n_boot,
                  uint64_t seed, study_cmp *out, el_err *err)
{
    memset(out, 0, sizeof *out);
    out->metric = metric;
    out->unit = el_metric_unit(metric);
    double *xb = NULL, *yb = NULL, *xo = NULL, *yo = NULL;
    int nb = 0, no = 0, rc = -1;
    if (el_run_series(base, xkey, metric, &xb, &yb, &nb, err) == 0 &&
        el_run_series(other, xkey, metric, &xo, &yo, &no, err) == 0) {
        rc = el_compare_sets(xb, yb, nb, xo, yo, no, n_boot, seed, &out->c, err);
        if (rc) el_err_prefix(err, "%s", metric);
    }
    free(xb);
    free(yb);
    free(xo);
    free(yo);
    return rc;
}

/* ---- traces ------------------------------------------------------------------ */

char *study_trace_svg(const char *path, double t0, double t1, const char *title, int which, el_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        el_errf(err, "%s: cannot open trace: %s", path, strerror(errno));
        return NULL;
    }
    char line[2048];
    int ct = -1, cc = -1, cr = -1;
    size_t cap = 256, n = 0;
    double *t = malloc(cap * sizeof *t), *c = malloc(cap * sizeof *c), *r = malloc(cap * sizeof *r);
    double pad = (t1 - t0) * 0.3 + 0.3;  // some context either side
    while (t && c && r && fgets(line, sizeof line, f)) {
        if (line[0] == '#') continue;
        char *fields[32];
        int nf = 0;
        // empty fields matter: split by hand
        char *p = line;
        while (nf < 32) {
            fields[nf++] = p;
            char *q = strchr(p, ',');
            if (!q) break;
            *q = 0;
            p = q + 1;
        }
        if (ct < 0) {
            for (int k = 0; k < nf; k++) {
                fields[k][strcspn(fields[k], "\r\n")] = 0;
                if (strcmp(fields[k], "t_s") == 0) ct = k;
                else if (strcmp(fields[k], "tree_cores") == 0) cc = k;
                else if (strcmp(fields[k], "rss_mb") == 0) cr = k;
            }
            if (ct < 0 || cc < 0 || cr < 0) break;
            continue;
        }
        if (nf <= ct || nf <= cc || nf <= cr) continue;
        double tv = strtod(fields[ct], NULL);
        if (tv < t0 - pad || tv > t1 + pad) continue;
        if (n == cap) {
            cap *= 2;
            double *nt = realloc(t, cap * sizeof *t), *nc = nt ? realloc(c, cap * sizeof *c) : NULL,
                   *nr = nc ? realloc(r, cap * sizeof *r) : NULL;
            if (nt) t = nt;
            if (nc) c = nc;
            if (!nr) break;
            r = nr;
        }
        t[n] = tv - t0;
        c[n] = strtod(fields[cc], NULL);
        r[n] = strtod(fields[cr], NULL);
        n++;
    }
    fclose(f);
    char *svg = NULL;
    if (!t || !c || !r) el_errf(err, "out of memory");
    else if (ct < 0 || cc < 0 || cr < 0) el_errf(err, "%s: not an edgelm trace (no t_s, tree_cores, rss_mb columns)", path);
    else if (n == 0) el_errf(err, "%s: no samples near the window [%.3f, %.3f] s", path, t0, t1);
    else {
        // each sample's rate is the average over the interval before it: draw
        // it as a flat segment over that interval
        size_t m = n > 1 ? 2 * (n - 1) : 1;
        double *sx = malloc(m * sizeof *sx), *sy = malloc(m * sizeof *sy);
        if (!sx || !sy) el_errf(err, "out of memory");
        else {
            const double *src = which == 0 ? c : r;
            if (n == 1) {
                sx[0] = t[0];
                sy[0] = src[0];
            }
            for (size_t i = 1; i < n; i++) {
                sx[2 * (i - 1)] = t[i - 1];
                sx[2 * (i - 1) + 1] = t[i];
                sy[2 * (i - 1)] = sy[2 * (i - 1) + 1] = which == 0 ? src[i] : NAN;
                if (which == 1) {  // RSS is an instantaneous reading: a plain line
                    sy[2 * (i - 1)] = src[i - 1];
                    sy[2 * (i - 1) + 1] = src[i];
                }
            }
            el_plot_series s;
            memset(&s, 0, sizeof s);
            s.label = which == 0 ? "CPU of the measured tree (cores, average over each interval)" : "RSS of the measured tree (MB)";
            s.kind = EL_SERIES_LINE;
            s.x = sx;
            s.y = sy;
            s.n = (int)m;
            s.color = which == 0 ? "#1f77b4" : "#2ca02c";
            el_plot p;
            memset(&p, 0, sizeof p);
            p.title = title;
            p.xlabel = "time since the window's start (s)";
            p.ylabel = which == 0 ? "CPU (cores)" : "RSS (MB)";
            p.vline_x = t1 - t0;
            p.vspan_lo = 0;
            p.vspan_hi = t1 - t0;
            p.vline_label = "window end (window shaded)";
            p.series = &s;
            p.n_series = 1;
            svg = el_plot_svg(&p, err);
        }
        free(sx);
        free(sy);
    }
    free(t);
    free(c);
    free(r);
    return svg;
}

int study_common_opt(const char *cmd, int argc, char **argv, int *i, study_opts *o)
{
    const char *a = argv[*i], *v;
    if (cli_is(a, "--metric", "-M")) return (o->metrics = cli_value(cmd, argc, argv, i)) ? 1 : -1;
    if (cli_is(a, "--x", NULL)) return (o->xkey = cli_value(cmd, argc, argv, i)) ? 1 : -1;
    if (cli_is(a, "--boot", NULL))
        return (v = cli_value(cmd, argc, argv, i)) && !cli_int(cmd, a, v, 0, 1000000, &o->boot) ? 1 : -1;
    if (cli_is(a, "--seed", NULL))
        return (v = cli_value(cmd, argc, argv, i)) && !cli_int(cmd, a, v, 0, 1ll << 62, &o->seed) ? 1 : -1;
    if (cli_is(a, "-o", "--format")) {
        if (!(o->fmt = cli_value(cmd, argc, argv, i))) return -1;
        if (strcmp(o->fmt, "table") && strcmp(o->fmt, "json") && strcmp(o->fmt, "csv")) {
            cli_error(cmd, "%s: expected table, json or csv, got '%s'", a, o->fmt);
            return -1;
        }
        return 1;
    }
    return 0;
}
