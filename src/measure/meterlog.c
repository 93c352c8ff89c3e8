/* meterlog.c -- external meter logs (CSV: time and watts, or volts and amps),
 * the profiler's trace CSV as read back by calibration, the least-squares
 * power-model fit, and power-profile JSON files. */
#include "measure_int.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- CSV helpers ----------------------------------------------------------- */

char el_csv_guess_sep(const char *line)
{
    int c = 0, s = 0, t = 0;
    for (const char *p = line; *p && *p != '\n'; p++) {
        c += *p == ',';
        s += *p == ';';
        t += *p == '\t';
    }
    if (t > c && t > s) return '\t';
    if (s > c) return ';';
    return ',';
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        s[n - 1] = 0;
        s++;
    }
    return s;
}

int el_csv_split(char *line, char sep, char **fields, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        char *q = strchr(p, sep);
        if (q) *q = 0;
        if (n < max) fields[n] = trim(p);
        n++;
        if (!q) break;
        p = q + 1;
    }
    return n < max ? n : max;
}

static int parse_num(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

int el_parse_time(const char *s, double *out)
{
    double v;
    if (parse_num(s, &v) == 0) {
        *out = v > 1e11 ? v / 1000.0 : v;  // milliseconds since the epoch
        return 0;
    }
    // ISO 8601: YYYY-MM-DD[T ]HH:MM:SS[.fff][Z]
    int Y, M, D, h, m, n = 0;
    double sec;
    if (sscanf(s, "%4d-%2d-%2d%*1[T ]%2d:%2d:%lf%n", &Y, &M, &D, &h, &m, &sec, &n) != 6) return -1;
    const char *rest = s + n;
    if (*rest == 'Z') rest++;
    if (*rest || Y < 1970 || Y > 9999 || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 ||
        !(sec >= 0 && sec < 61))
        return -1;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    time_t tt = timegm(&tm);
    *out = (double)tt + sec;
    return 0;
}

static bool hdr_is(const char *h, const char *const *names)
{
    for (int i = 0; names[i]; i++) {
        size_t n = strlen(names[i]);
        if (strncasecmp(h, names[i], n) == 0 && !isalpha((unsigned char)h[n])) return true;
    }
    return false;
}

static bool has_alpha_field(char **f, int nf)
{
    for (int i = 0; i < nf; i++) {
        double v;
        if (parse_num(f[i], &v) != 0 && el_parse_time(f[i], &v) != 0) return true;
    }
    return false;
}

/* Iterate over lines in place: returns next line start, NUL-terminates line. */
static char *next_line(char **p)
{
    char *s = *p;
    if (!s || !*s) return NULL;
    char *e = strchr(s, '\n');
    if (e) {
        *e = 0;
        *p = e + 1;
    } else {
        *p = s + strlen(s);
    }
    size_t n = strlen(s);
    if (n && s[n - 1] == '\r') s[n - 1] = 0;
    return s;
}

static int push2(double **a, double **b, long *n, long *cap, double x, double y, el_err *err)
{
    if (*n == *cap) {
        long nc = *cap ? *cap * 2 : 256;
        double *na = realloc(*a, (size_t)nc * sizeof *na);
        if (na) *a = na;
        double *nb = realloc(*b, (size_t)nc * sizeof *nb);
        if (nb) *b = nb;
        if (!na || !nb) return el_errf(err, "out of memory reading a CSV of %ld rows", *n);
        *cap = nc;
    }
    (*a)[*n] = x;
    (*b)[*n] = y;
    (*n)++;
    return 0;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---- meter logs -------------------------------------------------------------- */

int el_meterlog_parse(const char *text, size_t len, const char *name, el_meterlog *out, el_err *err)
{
    memset(out, 0, sizeof *out);
    char *buf = el_malloc(len + 1, err);
    if (!buf) return -1;
    memcpy(buf, text, len);
    buf[len] = 0;
    if (strlen(buf) != len) {
        free(buf);
        return el_errf(err, "%s: contains a NUL byte (not a text CSV)", name);
    }
    static const char *tnames[] = {"time", "timestamp", "t", "ts", "unix", "date", "epoch", NULL};
    static const char *wnames[] = {"watts", "watt", "power", "w", "p", NULL};
    static const char *vnames[] = {"volts", "volt", "voltage", "v", "u", NULL};
    static const char *anames[] = {"amps", "amp", "ampere", "current", "a", "i", NULL};
    int ct = -1, cw = -1, cv = -1, ca = -1, ncol = 0;
    char sep = 0;
    long lineno = 0, cap = 0;
    char *cur = buf, *line;
    int rc = 0;
    while ((line = next_line(&cur)) && rc == 0) {
        lineno++;
        char *s = line;
        while (isspace((unsigned char)*s)) s++;
        if (!*s || *s == '#') continue;
        if (!sep) sep = el_csv_guess_sep(s);
        char *f[32];
        int nf = el_csv_split(s, sep, f, 32);
        if (ct < 0) {
            // first row: header, or data with positional columns
            if (has_alpha_field(f, nf)) {
                for (int i = 0; i < nf; i++) {
                    if (ct < 0 && hdr_is(f[i], tnames)) ct = i;
                    else if (cw < 0 && hdr_is(f[i], wnames)) cw = i;
                    else if (cv < 0 && hdr_is(f[i], vnames)) cv = i;
                    else if (ca < 0 && hdr_is(f[i], anames)) ca = i;
                }
                if (ct < 0) {
                    rc = el_errf(err, "%s: line %ld: no time column in the header (expected time, timestamp, t or unix)",
                                 name, lineno);
                    break;
                }
                if (cw < 0 && (cv < 0 || ca < 0)) {
                    rc = el_errf(err, "%s: line %ld: header needs a power column (watts, power, W) or volts and amps",
                                 name, lineno);
                    break;
                }
                ncol = nf;
                continue;
            }
            ncol = nf;
            ct = 0;
            if (nf == 2) cw = 1;
            else if (nf == 3) {
                cv = 1;
                ca = 2;
            } else {
                rc = el_errf(err, "%s: line %ld: %d columns without a header; expected 2 (time, watts) or 3 "
                                  "(time, volts, amps)", name, lineno, nf);
                break;
            }
        }
        if (nf < ncol) {
            rc = el_errf(err, "%s: line %ld: %d fields, expected %d", name, lineno, nf, ncol);
            break;
        }
        double t, w, v = 0, a = 0;
        if (el_parse_time(f[ct], &t) != 0) {
            rc = el_errf(err, "%s: line %ld: time '%.40s' is not a number or an ISO 8601 time", name, lineno, f[ct]);
            break;
        }
        if (cw >= 0) {
            if (parse_num(f[cw], &w) != 0) {
                rc = el_errf(err, "%s: line %ld: watts '%.40s' is not a number", name, lineno, f[cw]);
                break;
            }
        } else {
            if (parse_num(f[cv], &v) != 0 || parse_num(f[ca], &a) != 0) {
                rc = el_errf(err, "%s: line %ld: volts '%.40s' / amps '%.40s' are not numbers", name, lineno,
                             f[cv], f[ca]);
                break;
            }
            w = v * a;
        }
        if (!(w >= 0 && w < 1e6)) {
            rc = el_errf(err, "%s: line %ld: power %g W out of range [0, 1e6)", name, lineno, w);
            break;
        }
        if (out->n > 0) {
            double prev = out->t[out->n - 1];
            if (t == prev) continue;  // meters with 1 s resolution repeat stamps: keep the first
            if (t < prev) {
                rc = el_errf(err, "%s: line %ld: time %.3f is earlier than the previous row's %.3f", name, lineno,
                             t, prev);
                break;
            }
        }
        rc = push2(&out->t, &out->w, &out->n, &cap, t, w, err);
    }
    free(buf);
    if (rc == 0 && out->n < 2) rc = el_errf(err, "%s: %ld readings, need at least 2", name, out->n);
    if (rc != 0) {
        el_meterlog_free(out);
        return -1;
    }
    double *dt = el_malloc((size_t)(out->n - 1) * sizeof *dt, err);
    if (!dt) {
        el_meterlog_free(out);
        return -1;
    }
    for (long i = 0; i + 1 < out->n; i++) dt[i] = out->t[i + 1] - out->t[i];
    qsort(dt, (size_t)(out->n - 1), sizeof *dt, cmp_dbl);
    out->median_dt = dt[(out->n - 1) / 2];
    free(dt);
    return 0;
}

int el_meterlog_load(const char *path, el_meterlog *out, el_err *err)
{
    size_t len;
    char *text = el_slurp(path, &len, err);
    if (!text) return -1;
    int rc = el_meterlog_parse(text, len, path, out, err);
    free(text);
    return rc;
}

void el_meterlog_free(el_meterlog *m)
{
    if (!m) return;
    free(m->t);
    free(m->w);
    memset(m, 0, sizeof *m);
}

static double clampd(double x, double a, double b) { return x < a ? a : x > b ? b : x; }

double el_meterlog_energy(const el_meterlog *m, double a, double b, double max_gap, double *gap_s,
                          double *uncovered_s)
{
    double e = 0, gap = 0, unc = 0;
    if (b < a) b = a;
    if (m->n < 2) {
        if (gap_s) *gap_s = 0;
        if (uncovered_s) *uncovered_s = b - a;
        return 0;
    }
    double lo = m->t[0], hi = m->t[m->n - 1];
    unc = (clampd(lo, a, b) - a) + (b - clampd(hi, a, b));
    // integrate the piecewise-linear power over each reading interval that
    // meets [a, b]; binary search for the first one
    long lo_i = 0, hi_i = m->n - 1;
    while (hi_i - lo_i > 1) {
        long mid = (lo_i + hi_i) / 2;
        if (m->t[mid] <= a) lo_i = mid;
        else hi_i = mid;
    }
    for (long i = lo_i; i + 1 < m->n; i++) {
        double t0 = m->t[i], t1 = m->t[i + 1];
        if (t1 <= a) continue;
        if (t0 >= b) break;
        double x0 = clampd(a, t0, t1), x1 = clampd(b, t0, t1);
        double dt = t1 - t0;
        double p0 = m->w[i] + (m->w[i + 1] - m->w[i]) * (x0 - t0) / dt;
        double p1 = m->w[i] + (m->w[i + 1] - m->w[i]) * (x1 - t0) / dt;
        e += 0.5 * (p0 + p1) * (x1 - x0);
        if (max_gap > 0 && dt > max_gap) gap += x1 - x0;
    }
    if (gap_s) *gap_s = gap;
    if (uncovered_s) *uncovered_s = unc;
    return e;
}

/* ---- traces ----------------------------------------------------------------- */

int el_trace_parse(const char *text, size_t len, const char *name, el_trace *out, el_err *err)
{
    memset(out, 0, sizeof *out);
    char *buf = el_malloc(len + 1, err);
    if (!buf) return -1;
    memcpy(buf, text, len);
    buf[len] = 0;
    if (strlen(buf) != len) {
        free(buf);
        return el_errf(err, "%s: contains a NUL byte (not a trace CSV)", name);
    }
    int cu = -1, cb = -1, cs = -1, ncol = 0;
    long lineno = 0, cap = 0;
    char *cur = buf, *line;
    int rc = 0;
    while ((line = next_line(&cur)) && rc == 0) {
        lineno++;
        if (line[0] == '#') {
            const char *p = strstr(line, "n_cpus=");
            if (p) out->n_cpus = atoi(p + 7);
            continue;
        }
        if (!line[0]) continue;
        char *f[64];
        int nf = el_csv_split(line, ',', f, 64);
        if (cu < 0) {
            for (int i = 0; i < nf; i++) {
                if (strcmp(f[i], "unix_s") == 0) cu = i;
                else if (strcmp(f[i], "sys_busy_core_s") == 0) cb = i;
                else if (strcmp(f[i], "sys_cores") == 0) cs = i;
            }
            if (cu < 0 || cb < 0 || cs < 0) {
                rc = el_errf(err, "%s: line %ld: header lacks unix_s, sys_busy_core_s or sys_cores "
                                  "(not an edgelm trace?)", name, lineno);
                break;
            }
            ncol = nf;
            continue;
        }
        if (nf < ncol) {
            // a killed profiler may leave a partial last line: stop there
            if (!*cur) break;
            rc = el_errf(err, "%s: line %ld: %d fields, expected %d", name, lineno, nf, ncol);
            break;
        }
        double u, b, s;
        if (parse_num(f[cu], &u) != 0 || parse_num(f[cb], &b) != 0 || parse_num(f[cs], &s) != 0) {
            rc = el_errf(err, "%s: line %ld: unix_s/sys_busy_core_s/sys_cores are not numbers", name, lineno);
            break;
        }
        if (out->n > 0 && u <= out->unix_s[out->n - 1]) {
            rc = el_errf(err, "%s: line %ld: unix_s %.6f does not increase", name, lineno, u);
            break;
        }
        if (out->n == cap) {
            // keep the third column the same length as the other two
            long nc = cap ? cap * 2 : 256;
            double *ns = realloc(out->sys_cores, (size_t)nc * sizeof *ns);
            if (!ns) {
                rc = el_errf(err, "out of memory reading %s", name);
                break;
            }
            out->sys_cores = ns;
        }
        out->sys_cores[out->n] = s;
        rc = push2(&out->unix_s, &out->sys_busy_s, &out->n, &cap, u, b, err);
    }
    free(buf);
    if (rc == 0 && out->n < 2) rc = el_errf(err, "%s: %ld samples, need at least 2", name, out->n);
    if (rc == 0 && out->n_cpus <= 0)
        rc = el_errf(err, "%s: no '# ... n_cpus=N' comment line (not an edgelm trace?)", name);
    if (rc == 0 && out->n_cpus > 65536) rc = el_errf(err, "%s: n_cpus=%d is implausible", name, out->n_cpus);
    if (rc != 0) {
        el_trace_free(out);
        return -1;
    }
    return 0;
}

int el_trace_load(const char *path, el_trace *out, el_err *err)
{
    size_t len;
    char *text = el_slurp(path, &len, err);
    if (!text) return -1;
    int rc = el_trace_parse(text, len, path, out, err);
    free(text);
    return rc;
}

void el_trace_free(el_trace *tr)
{
    if (!tr) return;
    free(tr->unix_s);
    free(tr->sys_busy_s);
    free(tr->sys_cores);
    memset(tr, 0, sizeof *tr);
}

/* cumulative busy core*s at unix time x, linear between trace samples */
static double busy_at(const el_trace *tr, double x)
{
    long lo = 0, hi = tr->n - 1;
    while (hi - lo > 1) {
        long mid = (lo + hi) / 2;
        if (tr->unix_s[mid] <= x) lo = mid;
        else hi = mid;
    }
    double f = (x - tr->unix_s[lo]) / (tr->unix_s[hi] - tr->unix_s[lo]);
    return tr->sys_busy_s[lo] + f * (tr->sys_busy_s[hi] - tr->sys_busy_s[lo]);
}

int el_power_fit_meter(const el_meterlog *m, const el_trace *tr, double max_gap, el_power_fit *out,
                       el_err *err)
{
    memset(out, 0, sizeof *out);
    if (max_gap <= 0) max_gap = 2.5 * m->median_dt;
    double sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
    long n = 0;
    out->u_min = INFINITY;
    out->u_max = -INFINITY;
    // one point per meter interval: mean power (trapezoid) vs mean utilisation
    for (long i = 0; i + 1 < m->n; i++) {
        double a = m->t[i], b = m->t[i + 1];
        if (b - a > max_gap || a < tr->unix_s[0] || b > tr->unix_s[tr->n - 1]) continue;
        double u = (busy_at(tr, b) - busy_at(tr, a)) / ((b - a) * tr->n_cpus);
        double p = 0.5 * (m->w[i] + m->w[i + 1]);
        sx += u;
        sy += p;
        sxx += u * u;
        sxy += u * p;
        syy += p * p;
        n++;
        if (u < out->u_min) out->u_min = u;
        if (u > out->u_max) out->u_max = u;
    }
    out->n = n;
    if (n < 3)
        return el_errf(err, "only %ld meter intervals overlap the trace (need >= 3): check the clocks "
                            "(--meter-offset) and that the trace covers the meter log", n);
    double mx = sx / n, my = sy / n;
    double vxx = sxx / n - mx * mx, vxy = sxy / n - mx * my, vyy = syy / n - my * my;
    if (!(vxx > 1e-8))
        return el_errf(err, "utilisation did not vary over the %ld overlapping intervals (%.3f..%.3f): "
                            "record idle and loaded periods", n, out->u_min, out->u_max);
    double slope = vxy / vxx, icpt = my - slope * mx;
    double ss_res = 0;
    for (long i = 0; i + 1 < m->n; i++) {
        double a = m->t[i], b = m->t[i + 1];
        if (b - a > max_gap || a < tr->unix_s[0] || b > tr->unix_s[tr->n - 1]) continue;
        double u = (busy_at(tr, b) - busy_at(tr, a)) / ((b - a) * tr->n_cpus);
        double r = 0.5 * (m->w[i] + m->w[i + 1]) - (icpt + slope * u);
        ss_res += r * r;
    }
    out->p_idle_w = icpt;
    out->p_max_w = icpt + slope;
    out->rmse_w = sqrt(ss_res / n);
    out->r2 = vyy > 0 ? 1.0 - ss_res / (vyy * n) : 1.0;
    return 0;
}

/* ---- power profile JSON ---------------------------------------------------------- */

int el_power_profile_parse(const char *text, size_t len, const char *name, el_power_profile *out,
                           el_err *err)
{
    memset(out, 0, sizeof *out);
    cJSON *j = cJSON_ParseWithLength(text, len);
    if (!j) return el_errf(err, "%s: not valid JSON", name);
    int rc = 0;
    const cJSON *idle = cJSON_GetObjectItemCaseSensitive(j, "p_idle_w");
    const cJSON *max = cJSON_GetObjectItemCaseSensitive(j, "p_max_w");
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(j, "name");
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(j, "source");
    if (!cJSON_IsObject(j)) rc = el_errf(err, "%s: expected a JSON object", name);
    else if (!cJSON_IsNumber(idle))
        rc = el_errf(err, "%s: key 'p_idle_w' missing or not a number", name);
    else if (!cJSON_IsNumber(max))
        rc = el_errf(err, "%s: key 'p_max_w' missing or not a number", name);
    else if (!(idle->valuedouble >= 0 && idle->valuedouble <= max->valuedouble && max->valuedouble < 1e5))
        rc = el_errf(err, "%s: expected 0 <= p_idle_w <= p_max_w < 1e5, found %g and %g", name,
                     idle->valuedouble, max->valuedouble);
    else if (nm && !cJSON_IsString(nm))
        rc = el_errf(err, "%s: key 'name' is not a string", name);
    if (rc == 0) {
        out->p_idle_w = idle->valuedouble;
        out->p_max_w = max->valuedouble;
        snprintf(out->name, sizeof out->name, "%s", cJSON_IsString(nm) ? nm->valuestring : "file");
        snprintf(out->source, sizeof out->source, "%s", cJSON_IsString(src) ? src->valuestring : name);
    }
    cJSON_Delete(j);
    return rc;
}

int el_power_profile_write(const el_power_profile *pp, const char *path, const void *fit, el_err *err)
{
    cJSON *j = cJSON_CreateObject();
    if (!j) return el_errf(err, "out of memory");
    cJSON_AddStringToObject(j, "schema", "edgelm-power-profile/1");
    cJSON_AddStringToObject(j, "name", pp->name);
    cJSON_AddNumberToObject(j, "p_idle_w", pp->p_idle_w);
    cJSON_AddNumberToObject(j, "p_max_w", pp->p_max_w);
    cJSON_AddStringToObject(j, "source", pp->source);
    if (fit) {
        const el_power_fit *f = fit;
        cJSON *o = cJSON_AddObjectToObject(j, "fit");
        if (o) {
            cJSON_AddNumberToObject(o, "n", (double)f->n);
            cJSON_AddNumberToObject(o, "rmse_w", f->rmse_w);
            cJSON_AddNumberToObject(o, "r2", f->r2);
            cJSON_AddNumberToObject(o, "u_min", f->u_min);
            cJSON_AddNumberToObject(o, "u_max", f->u_max);
        }
    }
    char *s = cJSON_Print(j);
    cJSON_Delete(j);
    if (!s) return el_errf(err, "out of memory");
    FILE *f = fopen(path, "w");
    int rc = 0;
    if (!f) rc = el_errf(err, "%s: cannot write: %s", path, strerror(errno));
    else {
        fputs(s, f);
        fputc('\n', f);
        if (fclose(f) != 0) rc = el_errf(err, "%s: write failed", path);
    }
    cJSON_free(s);
    return rc;
}
