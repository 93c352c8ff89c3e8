/* stats.c -- the statistics of sweeps: Student's t, the linear and knee cost
 * laws with stratified-bootstrap confidence intervals, and the comparison of a
 * baseline against another (e.g. compressed) model. See edgelm/study.h. */
#include "edgelm/study.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BOOT_MAX 1000000     /* bound on n_boot (memory: a few doubles each) */
#define CI_LO 0.025
#define CI_HI 0.975

/* ======================================================================== */
/* Student's t                                                              */
/* ======================================================================== */

/* Above this many degrees of freedom t is the normal distribution to well
 * within double rounding of the figures we need (the difference is ~1/df). */
#define T_NORMAL_DF 1e9

/* The continued fraction of the incomplete beta function (DLMF 8.17.22):
 *   I_x(a,b) = x^a (1-x)^b / (a B(a,b)) * 1 / (1 + d1/(1 + d2/(1 + ...)))
 *   d_{2m}   =  m (b-m) x / ((a+2m-1)(a+2m))
 *   d_{2m+1} = -(a+m)(a+b+m) x / ((a+2m)(a+2m+1))
 * The denominator G = 1 + d1/(1 + d2/(1 + ...)) is evaluated with the modified
 * Lentz method; returns 1/G. Converges fast for x < (a+1)/(a+b+2). */
static double beta_cfrac(double a, double b, double x)
{
    const double tiny = 1e-300, tol = 1e-16;
    double f = 1.0, C = 1.0, D = 0.0;   /* f_0 = b_0 = 1 */
    for (int j = 1; j <= 200000; j++) {
        double m, dj;
        if (j & 1) {
            m = (j - 1) / 2;
            dj = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
        } else {
            m = j / 2;
            dj = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
        }
        D = 1.0 + dj * D;
        if (fabs(D) < tiny) D = tiny;
        D = 1.0 / D;
        C = 1.0 + dj / C;
        if (fabs(C) < tiny) C = tiny;
        double delta = C * D;
        f *= delta;
        if (fabs(delta - 1.0) < tol) break;
    }
    return 1.0 / f;
}

/* log B(a,b). When one argument is 1/2 and the other large, the difference
 * of lgammas loses digits: use log(Gamma(a+1/2)/Gamma(a)) =
 * 1/2 log a - 1/(8a) + 1/(192a^3) - 1/(640a^5) - 17/(14336a^7) + ... */
static double log_beta(double a, double b)
{
    double big = a > b ? a : b, small = a > b ? b : a;
    if (small == 0.5 && big > 50) {
        double r = 1.0 / big, r2 = r * r;
        double lratio = 0.5 * log(big) - r / 8 + r * r2 / 192 - r * r2 * r2 / 640 -
                        17 * r * r2 * r2 * r2 / 14336;
        return 0.5 * log(M_PI) - lratio;
    }
    return lgamma(a) + lgamma(b) - lgamma(a + b);
}

/* x^a y^b / (a B(a,b)), from lx = log x and ly = log y = log(1-x). */
static double beta_front(double a, double b, double lx, double ly)
{
    return exp(a * lx + b * ly - log_beta(a, b)) / a;
}

/* Regularised incomplete beta I_x(a,b) and its complement 1 - I_x(a,b), with
 * y = 1 - x, log x and log y supplied exactly by the caller. */
static void inc_beta(double a, double b, double x, double y, double lx, double ly, double *I,
                     double *Ic)
{
    if (x <= 0) {
        *I = 0, *Ic = 1;
        return;
    }
    if (y <= 0) {
        *I = 1, *Ic = 0;
        return;
    }
    if (x < (a + 1) / (a + b + 2)) {
        *I = beta_front(a, b, lx, ly) * beta_cfrac(a, b, x);
        *Ic = 1 - *I;
    } else {   /* symmetry: I_x(a,b) = 1 - I_{1-x}(b,a) */
        *Ic = beta_front(b, a, ly, lx) * beta_cfrac(b, a, y);
        *I = 1 - *Ic;
    }
}

/* For t >= 0: upper tail P(T > t) and its complement P(T <= t). */
static void t_tails(double t, double df, double *upper, double *lower)
{
    if (df > T_NORMAL_DF) {
        *upper = 0.5 * erfc(t / M_SQRT2);
        *lower = 0.5 * erfc(-t / M_SQRT2);
        return;
    }
    /* P(|T| > t) = I_x(df/2, 1/2) with x = df / (df + t^2) = 1 / (1 + r^2) */
    double r = t / sqrt(df), x, y, lx, ly;
    if (r > 1e150) {
        lx = -2 * log(r);
        x = exp(lx);
        y = 1.0;
        ly = 0.0;
    } else {
        double r2 = r * r, l1 = log1p(r2);
        x = 1.0 / (1.0 + r2);
        y = r2 / (1.0 + r2);
        lx = -l1;
        ly = r2 > 0 ? log(r2) - l1 : -INFINITY;
    }
    double I, Ic;
    inc_beta(0.5 * df, 0.5, x, y, lx, ly, &I, &Ic);
    *upper = 0.5 * I;
    *lower = 0.5 + 0.5 * Ic;
}

static double t_pdf(double t, double df)
{
    if (df > T_NORMAL_DF) return exp(-0.5 * t * t) / sqrt(2 * M_PI);
    /* 1 / (sqrt(df) B(df/2, 1/2)) */
    double lc = -0.5 * log(df) - log_beta(0.5 * df, 0.5);
    return exp(lc - 0.5 * (df + 1) * log1p(t * t / df));
}

double el_student_t_cdf(double t, double df)
{
    if (isnan(t) || isnan(df) || !(df > 0)) return NAN;
    if (isinf(t)) return t > 0 ? 1.0 : 0.0;
    double up, low;
    t_tails(fabs(t), df, &up, &low);
    return t >= 0 ? low : up;
}

double el_student_t_quantile(double p, double df)
{
    if (isnan(p) || isnan(df) || !(df > 0)) return NAN;
    if (p <= 0) return p == 0 ? -INFINITY : NAN;
    if (p >= 1) return p == 1 ? INFINITY : NAN;
    if (p == 0.5) return 0.0;
    double q = p < 0.5 ? p : 1 - p;   /* the upper tail to reach, t > 0 */
    double lq = log(q);
    /* bracket: tail(lo) > q >= tail(hi) */
    double lo = 0, hi = 1, up, low;
    t_tails(hi, df, &up, &low);
    while (up > q) {
        lo = hi;
        hi *= 2;
        if (hi > 1e300) return p < 0.5 ? -INFINITY : INFINITY;
        t_tails(hi, df, &up, &low);
    }
    /* safeguarded Newton on log(tail(t)) - log(q) */
    double t = 0.5 * (lo + hi);
    for (int it = 0; it < 400; it++) {
        t_tails(t, df, &up, &low);
        if (up == q) break;
        if (up > q) lo = t;
        else hi = t;
        double pdf = t_pdf(t, df), tn;
        if (up > 0 && pdf > 0) tn = t + (log(up) - lq) * up / pdf;
        else tn = NAN;
        if (!(tn > lo && tn < hi)) /* outside the bracket: bisect (geometrically if wide) */
            tn = (lo > 0 && hi > 4 * lo) ? sqrt(lo * hi) : 0.5 * (lo + hi);
        double step = fabs(tn - t);
        t = tn;
        if (step <= 1e-15 * t || hi - lo <= 1e-15 * hi) break;
    }
    return p < 0.5 ? -t : t;
}

/* ======================================================================== */
/* helpers: generator, grouping by x, percentiles                           */
/* ======================================================================== */

typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *z)
{
    uint64_t v = (*z += 0x9e3779b97f4a7c15ull);
    v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9ull;
    v = (v ^ (v >> 27)) * 0x94d049bb133111ebull;
    return v ^ (v >> 31);
}

static void rng_seed(rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl64(uint64_t v, int k) { return (v << k) | (v >> (64 - k)); }

/* xoshiro256** */
static uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl64(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return out;
}

/* uniform in [0, k) (multiply-shift; bias ~ k / 2^64) */
static int rng_below(rng *r, int k) { return (int)(((unsigned __int128)rng_next(r) * (unsigned)k) >> 64); }

/* Observations sorted by x and grouped by distinct x. */
typedef struct groups {
    int n, n_x;
    double *x, *y;   /* sorted by x (ties keep input order) */
    int *start;      /* n_x + 1 offsets into x, y */
    double *gx;      /* the distinct x */
    double *gmean;   /* mean y of each group */
    double *gscale;  /* sqrt(k/(k-1)) for a group of k >= 2, else 1 */
    bool repeats;    /* some x has two or more observations */
    double xbar, sxx, ybar;
} groups;

typedef struct obs {
    double x, y;
    int i;
} obs;

static int obs_cmp(const void *pa, const void *pb)
{
    const obs *a = pa, *b = pb;
    if (a->x < b->x) return -1;
    if (a->x > b->x) return 1;
    return (a->i > b->i) - (a->i < b->i);
}

static void groups_free(groups *g)
{
    free(g->x);
    free(g->y);
    free(g->start);
    free(g->gx);
    free(g->gmean);
    free(g->gscale);
    memset(g, 0, sizeof *g);
}

/* Validate and group. `what` names the data set in messages. */
static int groups_build(const double *x, const double *y, int n, const char *what, groups *g,
                        el_err *err)
{
    memset(g, 0, sizeof *g);
    if (n < 0) return el_errf(err, "%s: negative number of observations (%d)", what, n);
    if (n == 0) return el_errf(err, "%s: no observations", what);
    if (!x || !y) return el_errf(err, "%s: NULL data", what);
    for (int i = 0; i < n; i++) {
        if (!isfinite(x[i])) return el_errf(err, "%s: x[%d] = %g is not finite", what, i, x[i]);
        if (!isfinite(y[i])) return el_errf(err, "%s: y[%d] = %g is not finite", what, i, y[i]);
    }
    obs *o = el_calloc((size_t)n, sizeof *o, err);
    if (!o) return -1;
    for (int i = 0; i < n; i++) o[i] = (obs){x[i], y[i], i};
    qsort(o, (size_t)n, sizeof *o, obs_cmp);
    int nx = 1;
    for (int i = 1; i < n; i++) nx += o[i].x != o[i - 1].x;
    g->n = n;
    g->n_x = nx;
    g->x = el_calloc((size_t)n, sizeof(double), err);
    g->y = g->x ? el_calloc((size_t)n, sizeof(double), err) : NULL;
    g->start = g->y ? el_calloc((size_t)nx + 1, sizeof(int), err) : NULL;
    g->gx = g->start ? el_calloc((size_t)nx, sizeof(double), err) : NULL;
    g->gmean = g->gx ? el_calloc((size_t)nx, sizeof(double), err) : NULL;
    g->gscale = g->gmean ? el_calloc((size_t)nx, sizeof(double), err) : NULL;
    if (!g->gscale) {
        free(o);
        groups_free(g);
        return -1;
    }
    int k = 0;
    for (int i = 0; i < n; i++) {
        g->x[i] = o[i].x;
        g->y[i] = o[i].y;
        if (i == 0 || o[i].x != o[i - 1].x) {
            g->start[k] = i;
            g->gx[k] = o[i].x;
            k++;
        }
    }
    g->start[nx] = n;
    free(o);
    double sx = 0, sy = 0;
    for (int i = 0; i < n; i++) sx += g->x[i], sy += g->y[i];
    g->xbar = sx / n;
    g->ybar = sy / n;
    double sxx = 0;
    for (int i = 0; i < n; i++) sxx += (g->x[i] - g->xbar) * (g->x[i] - g->xbar);
    g->sxx = sxx;
    for (int j = 0; j < nx; j++) {
        int s = g->start[j], c = g->start[j + 1] - s;
        double m = 0;
        for (int i = s; i < s + c; i++) m += g->y[i];
        g->gmean[j] = m / c;
        g->gscale[j] = c >= 2 ? sqrt((double)c / (c - 1)) : 1.0;
        if (c >= 2) g->repeats = true;
    }
    return 0;
}

/* One stratified resample of y into out (in the sorted order of g): at every
 * x, its k observations drawn with replacement. Each draw is expanded about
 * the group mean by sqrt(k/(k-1)) -- the usual small-stratum correction
 * (otherwise the resampled spread is biased low by (k-1)/k, which with 3-5
 * repeats makes "95%" intervals cover ~90%). */
static void resample(const groups *g, rng *r, double *out)
{
    for (int j = 0; j < g->n_x; j++) {
        int s = g->start[j], k = g->start[j + 1] - s;
        double m = g->gmean[j], f = g->gscale[j];
        if (k == 1) {
            out[s] = g->y[s];
            continue;
        }
        for (int i = 0; i < k; i++) out[s + i] = m + f * (g->y[s + rng_below(r, k)] - m);
    }
}

/* OLS of y on g->x (same x, so same xbar and sxx). */
static void line_fit(const groups *g, const double *y, double *a, double *b)
{
    double sy = 0, sxy = 0;
    for (int i = 0; i < g->n; i++) sy += y[i];
    double ybar = sy / g->n;
    for (int i = 0; i < g->n; i++) sxy += (g->x[i] - g->xbar) * (y[i] - ybar);
    *b = sxy / g->sxx;
    *a = ybar - *b * g->xbar;
}

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* Quantile p of v[0..n) (sorts v), linear interpolation between order
 * statistics (Hyndman & Fan type 7); v sorted ascending. */
static double quantile_sorted(const double *v, int n, double p)
{
    if (n <= 0) return NAN;
    double h = (n - 1) * p;
    int i = (int)floor(h);
    if (i >= n - 1) return v[n - 1];
    return v[i] + (h - i) * (v[i + 1] - v[i]);
}

/* Percentile CI of v[0..n): sorts v after moving non-finite values out. */
static void percentile_ci(double *v, int n, double *lo, double *hi)
{
    int m = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) v[m++] = v[i];
    qsort(v, (size_t)m, sizeof *v, cmp_double);
    *lo = quantile_sorted(v, m, CI_LO);
    *hi = quantile_sorted(v, m, CI_HI);
}

static int check_nboot(int n_boot, el_err *err)
{
    if (n_boot < 0) return el_errf(err, "n_boot = %d is negative", n_boot);
    if (n_boot > BOOT_MAX) return el_errf(err, "n_boot = %d is more than %d", n_boot, BOOT_MAX);
    return 0;
}

/* ======================================================================== */
/* linear law                                                               */
/* ======================================================================== */

/* Quadratic fit y = a2 + b2 x + c x^2 by modified Gram-Schmidt on the columns
 * 1, u, u^2 with u = (x - xbar)/sd (well conditioned), then mapped back. */
static int quad_fit(const groups *g, el_linear_fit *out, double tss, el_err *err)
{
    int n = g->n;
    double sd = sqrt(g->sxx / n);
    double *e1 = el_calloc((size_t)n, sizeof(double), err);
    double *e2 = e1 ? el_calloc((size_t)n, sizeof(double), err) : NULL;
    if (!e2) {
        free(e1);
        return -1;
    }
    double e0 = 1.0 / sqrt((double)n);   /* the normalised constant column */
    /* u, orthogonalised against e0 */
    double r01 = 0, r11 = 0;
    for (int i = 0; i < n; i++) r01 += e0 * (g->x[i] - g->xbar) / sd;
    for (int i = 0; i < n; i++) {
        e1[i] = (g->x[i] - g->xbar) / sd - r01 * e0;
        r11 += e1[i] * e1[i];
    }
    r11 = sqrt(r11);
    for (int i = 0; i < n; i++) e1[i] /= r11;
    /* u^2 against e0, e1 (twice, for orthogonality to working precision) */
    double r02 = 0, r12 = 0, r22 = 0;
    for (int i = 0; i < n; i++) {
        double u = (g->x[i] - g->xbar) / sd;
        e2[i] = u * u;
    }
    for (int pass = 0; pass < 2; pass++) {
        double d0 = 0, d1 = 0;
        for (int i = 0; i < n; i++) d0 += e0 * e2[i];
        for (int i = 0; i < n; i++) e2[i] -= d0 * e0;
        for (int i = 0; i < n; i++) d1 += e1[i] * e2[i];
        for (int i = 0; i < n; i++) e2[i] -= d1 * e1[i];
        r02 += d0;
        r12 += d1;
    }
    for (int i = 0; i < n; i++) r22 += e2[i] * e2[i];
    r22 = sqrt(r22);
    if (!(r22 > 0) || !isfinite(r22)) {
        free(e1);
        free(e2);
        return el_errf(err, "quadratic fit: x values degenerate");
    }
    for (int i = 0; i < n; i++) e2[i] /= r22;
    double q0 = 0, q1 = 0, q2 = 0;
    for (int i = 0; i < n; i++) {
        q0 += e0 * g->y[i];
        q1 += e1[i] * g->y[i];
        q2 += e2[i] * g->y[i];
    }
    double rss = 0;
    for (int i = 0; i < n; i++) {
        double r = g->y[i] - q0 * e0 - q1 * e1[i] - q2 * e2[i];
        rss += r * r;
    }
    free(e1);
    free(e2);
    /* back-substitution: R p = q with R = [[sqrt(n), r01, r02], [0, r11, r12], [0, 0, r22]] */
    double r00 = sqrt((double)n);
    double p2 = q2 / r22;
    double p1 = (q1 - r12 * p2) / r11;
    double p0 = (q0 - r01 * p1 - r02 * p2) / r00;
    double m = g->xbar;
    out->c = p2 / (sd * sd);
    out->b2 = p1 / sd - 2 * p2 * m / (sd * sd);
    out->a2 = p0 - p1 * m / sd + p2 * m * m / (sd * sd);
    int df = n - 3;
    double s = sqrt(rss / df);
    out->c_se = s / r22 / (sd * sd);   /* var(p2) = s^2 [R^-1 R^-T]_22 = s^2 / r22^2 */
    if (out->c_se > 0) {
        out->c_t = out->c / out->c_se;
        out->c_p = 2 * el_student_t_cdf(-fabs(out->c_t), df);
    } else {   /* an exact fit */
        out->c_t = out->c == 0 ? 0 : copysign(INFINITY, out->c);
        out->c_p = out->c == 0 ? 1 : 0;
    }
    out->r2_quad = tss > 0 ? 1 - rss / tss : 1.0;
    double xm = out->x_max;
    out->quad_share = out->c * xm * xm / (out->a2 + out->b2 * xm + out->c * xm * xm);
    return 0;
}

/* The bootstrap of the line: ab[2r], ab[2r+1] = a, b of resample r. */
static int line_boot(const groups *g, int n_boot, uint64_t seed, double **ab_out, el_err *err)
{
    double *ab = el_calloc((size_t)n_boot * 2, sizeof(double), err);
    double *yb = ab ? el_calloc((size_t)g->n, sizeof(double), err) : NULL;
    if (!yb) {
        free(ab);
        return -1;
    }
    rng r;
    rng_seed(&r, seed);
    for (int k = 0; k < n_boot; k++) {
        resample(g, &r, yb);
        line_fit(g, yb, &ab[2 * k], &ab[2 * k + 1]);
    }
    free(yb);
    *ab_out = ab;
    return 0;
}

/* Everything of el_fit_linear but the bootstrap. */
static int linear_core(const groups *g, el_linear_fit *out, el_err *err)
{
    int n = g->n;
    line_fit(g, g->y, &out->a.est, &out->b.est);
    double a = out->a.est, b = out->b.est;
    double rss = 0, tss = 0;
    for (int i = 0; i < n; i++) {
        double r = g->y[i] - (a + b * g->x[i]);
        rss += r * r;
        tss += (g->y[i] - g->ybar) * (g->y[i] - g->ybar);
    }
    if (!isfinite(a) || !isfinite(b) || !isfinite(rss) || !isfinite(tss) || !(g->sxx > 0) ||
        !isfinite(g->sxx))
        return el_errf(err, "linear fit: numerical overflow (x or y values too large)");
    out->n = n;
    out->n_x = g->n_x;
    out->x_min = g->gx[0];
    out->x_max = g->gx[g->n_x - 1];
    out->r2 = tss > 0 ? 1 - rss / tss : 1.0;
    out->rmse = sqrt(rss / n);
    if (n > 2) {
        double s = sqrt(rss / (n - 2));
        out->b_se = s / sqrt(g->sxx);
        out->a_se = s * sqrt(1.0 / n + g->xbar * g->xbar / g->sxx);
    } else {
        out->a_se = out->b_se = NAN;
    }
    out->a2 = out->b2 = out->c = out->c_se = out->c_t = out->c_p = NAN;
    out->r2_quad = out->quad_share = NAN;
    if (g->n_x >= 3 && n >= 4 && quad_fit(g, out, tss, err)) return -1;
    return 0;
}

static int linear_prepare(const double *x, const double *y, int n, int n_boot, groups *g,
                          el_err *err)
{
    if (check_nboot(n_boot, err)) return -1;
    if (groups_build(x, y, n, "linear fit", g, err)) return -1;
    if (g->n_x < 2) {
        el_errf(err, "linear fit: need at least 2 distinct x values, got %d (n = %d)", g->n_x, n);
        groups_free(g);
        return -1;
    }
    return 0;
}

int el_fit_linear(const double *x, const double *y, int n, int n_boot, uint64_t seed,
                  double *resid, el_linear_fit *out, el_err *err)
{
    if (!out) return el_errf(err, "linear fit: NULL result");
    memset(out, 0, sizeof *out);
    out->a = out->b = (el_ci){NAN, NAN, NAN};
    groups g;
    if (linear_prepare(x, y, n, n_boot, &g, err)) return -1;
    if (linear_core(&g, out, err)) {
        groups_free(&g);
        return -1;
    }
    if (resid)   /* in the caller's order */
        for (int i = 0; i < n; i++) resid[i] = y[i] - (out->a.est + out->b.est * x[i]);
    if (g.repeats && n_boot > 0) {
        double *ab;
        if (line_boot(&g, n_boot, seed, &ab, err)) {
            groups_free(&g);
            return -1;
        }
        double *v = el_calloc((size_t)n_boot, sizeof(double), err);
        if (!v) {
            free(ab);
            groups_free(&g);
            return -1;
        }
        for (int k = 0; k < n_boot; k++) v[k] = ab[2 * k];
        percentile_ci(v, n_boot, &out->a.lo, &out->a.hi);
        for (int k = 0; k < n_boot; k++) v[k] = ab[2 * k + 1];
        percentile_ci(v, n_boot, &out->b.lo, &out->b.hi);
        free(v);
        free(ab);
        out->n_boot = n_boot;
    } else {
        double tq = n > 2 ? el_student_t_quantile(CI_HI, n - 2) : NAN;
        out->a.lo = out->a.est - tq * out->a_se;
        out->a.hi = out->a.est + tq * out->a_se;
        out->b.lo = out->b.est - tq * out->b_se;
        out->b.hi = out->b.est + tq * out->b_se;
        out->n_boot = 0;
    }
    groups_free(&g);
    return 0;
}

int el_linear_band(const double *x, const double *y, int n, int n_boot, uint64_t seed,
                   const double *xs, int m, double *lo, double *hi, el_err *err)
{
    if (m < 0) return el_errf(err, "linear band: negative number of points (%d)", m);
    if (m > 0 && (!xs || !lo || !hi)) return el_errf(err, "linear band: NULL output");
    for (int j = 0; j < m; j++)
        if (!isfinite(xs[j])) return el_errf(err, "linear band: xs[%d] = %g is not finite", j, xs[j]);
    groups g;
    if (linear_prepare(x, y, n, n_boot, &g, err)) return -1;
    el_linear_fit f;
    memset(&f, 0, sizeof f);
    if (linear_core(&g, &f, err)) {
        groups_free(&g);
        return -1;
    }
    if (g.repeats && n_boot > 0) {
        double *ab, *v;
        if (line_boot(&g, n_boot, seed, &ab, err)) {
            groups_free(&g);
            return -1;
        }
        if (!(v = el_calloc((size_t)n_boot, sizeof(double), err))) {
            free(ab);
            groups_free(&g);
            return -1;
        }
        for (int j = 0; j < m; j++) {
            for (int k = 0; k < n_boot; k++) v[k] = ab[2 * k] + ab[2 * k + 1] * xs[j];
            percentile_ci(v, n_boot, &lo[j], &hi[j]);
        }
        free(v);
        free(ab);
    } else {
        double tq = n > 2 ? el_student_t_quantile(CI_HI, n - 2) : NAN;
        double s = n > 2 ? f.rmse * sqrt((double)n / (n - 2)) : NAN;
        for (int j = 0; j < m; j++) {
            double d = xs[j] - g.xbar;
            double se = s * sqrt(1.0 / n + d * d / g.sxx);
            double v = f.a.est + f.b.est * xs[j];
            lo[j] = v - tq * se;
            hi[j] = v + tq * se;
        }
    }
    groups_free(&g);
    return 0;
}

/* ======================================================================== */
/* knee law                                                                 */
/* ======================================================================== */

/* In logs, with L = log x, k = log knee, p = log plateau:
 *   log y = p + alpha * min(L - k, 0)
 * For a given k this is linear in (p, alpha). The fit works on the groups:
 * their log x (L), count (w) and mean log y (ym); the within-group sum of
 * squares does not depend on k. */
typedef struct knee_data {
    int G;
    const double *L, *w;
    const double *ym;
    double W;   /* total weight */
} knee_data;

/* Between-group residual sum of squares at log-knee k; p and alpha of the fit. */
static double knee_rss(const knee_data *d, double k, double *p, double *alpha, double *szz_out,
                       double *zbar_out)
{
    double zbar = 0, ybar = 0;
    for (int j = 0; j < d->G; j++) {
        double z = fmin(d->L[j] - k, 0.0);
        zbar += d->w[j] * z;
        ybar += d->w[j] * d->ym[j];
    }
    zbar /= d->W;
    ybar /= d->W;
    double szz = 0, szy = 0, syy = 0;
    for (int j = 0; j < d->G; j++) {
        double z = fmin(d->L[j] - k, 0.0) - zbar, u = d->ym[j] - ybar;
        szz += d->w[j] * z * z;
        szy += d->w[j] * z * u;
        syy += d->w[j] * u * u;
    }
    double al = szz > 0 ? szy / szz : 0.0;
    double rss = syy - al * szy;
    if (p) *p = ybar - al * zbar;
    if (alpha) *alpha = al;
    if (szz_out) *szz_out = szz;
    if (zbar_out) *zbar_out = zbar;
    return rss > 0 ? rss : 0.0;
}

/* The between-group RSS at log-knee k with one parameter held fixed and the
 * other fitted: mode KFREE both free, KALPHA alpha = v, KPLAT log plateau = v
 * (for the profile intervals). */
enum { KFREE, KALPHA, KPLAT };

static double knee_obj(const knee_data *d, double k, int mode, double v)
{
    if (mode == KFREE) return knee_rss(d, k, NULL, NULL, NULL, NULL);
    double rss = 0;
    if (mode == KALPHA) {   /* p = weighted mean of ym - alpha z */
        double p = 0;
        for (int j = 0; j < d->G; j++) p += d->w[j] * (d->ym[j] - v * fmin(d->L[j] - k, 0.0));
        p /= d->W;
        for (int j = 0; j < d->G; j++) {
            double r = d->ym[j] - v * fmin(d->L[j] - k, 0.0) - p;
            rss += d->w[j] * r * r;
        }
    } else {   /* alpha by regression of ym - p on z through the origin */
        double szz = 0, szu = 0, suu = 0;
        for (int j = 0; j < d->G; j++) {
            double z = fmin(d->L[j] - k, 0.0), u = d->ym[j] - v;
            szz += d->w[j] * z * z;
            szu += d->w[j] * z * u;
            suu += d->w[j] * u * u;
        }
        rss = suu - (szz > 0 ? szu * szu / szz : 0);
    }
    return rss > 0 ? rss : 0.0;
}

#define KNEE_SCAN 160

/* The log-knee in [L_0, L_{G-1}] of least RSS: a scan, then golden section
 * around the best scan point. */
static double knee_best(const knee_data *d, int mode, double v, double *rss_out)
{
    double klo = d->L[0], khi = d->L[d->G - 1];
    double step = (khi - klo) / (KNEE_SCAN - 1);
    int best = 0;
    double best_rss = INFINITY;
    for (int i = 0; i < KNEE_SCAN; i++) {
        double k = i == KNEE_SCAN - 1 ? khi : klo + i * step;
        double r = knee_obj(d, k, mode, v);
        if (r < best_rss) best_rss = r, best = i;
    }
    double kbest = best == KNEE_SCAN - 1 ? khi : klo + best * step;
    double a = best > 0 ? klo + (best - 1) * step : klo;
    double b = best < KNEE_SCAN - 1 ? klo + (best + 1) * step : khi;
    if (b > khi) b = khi;
    const double gr = 0.6180339887498949;
    double c = b - gr * (b - a), e = a + gr * (b - a);
    double fc = knee_obj(d, c, mode, v), fe = knee_obj(d, e, mode, v);
    for (int it = 0; it < 200 && b - a > 1e-12 * (1 + fabs(a)); it++) {
        if (fc < fe) {
            b = e, e = c, fe = fc;
            c = b - gr * (b - a);
            fc = knee_obj(d, c, mode, v);
        } else {
            a = c, c = e, fc = fe;
            e = a + gr * (b - a);
            fe = knee_obj(d, e, mode, v);
        }
    }
    if (fc < best_rss) best_rss = fc, kbest = c;
    if (fe < best_rss) best_rss = fe, kbest = e;
    if (rss_out) *rss_out = best_rss;
    return kbest;
}

/* Profile interval of alpha (mode KALPHA) or log plateau (KPLAT): the values
 * v around est whose RSS, minimised over the other parameters, stays <= thr.
 * h: a step of the order of the standard error. */
static void knee_profile(const knee_data *d, int mode, double est, double h, double thr,
                         double *lo, double *hi)
{
    if (!(h > 0) || !isfinite(h)) h = 1e-3 * (1 + fabs(est));
    for (int dir = -1; dir <= 1; dir += 2) {
        double in = est, out = NAN, r;
        for (int j = 0; j < 60; j++) {
            double v = est + dir * h * ldexp(1.0, j);
            knee_best(d, mode, v, &r);
            if (r > thr) {
                out = v;
                break;
            }
            in = v;
        }
        double edge;
        if (isnan(out)) {
            edge = dir * INFINITY;
        } else {
            for (int it = 0; it < 50; it++) {
                double m = 0.5 * (in + out);
                knee_best(d, mode, m, &r);
                if (r > thr) out = m;
                else in = m;
            }
            edge = in;
        }
        if (dir < 0) *lo = edge;
        else *hi = edge;
    }
}

/* group means of y (in the order of g) */
static void group_means(const groups *g, const double *y, double *ym)
{
    for (int j = 0; j < g->n_x; j++) {
        int s = g->start[j], c = g->start[j + 1] - s;
        double m = 0;
        for (int i = s; i < s + c; i++) m += y[i];
        ym[j] = m / c;
    }
}

double el_knee_eval(const el_knee_fit *f, double x)
{
    if (!f || isnan(x) || !(x > 0)) return NAN;
    double K = f->knee.est, P = f->plateau.est, al = f->alpha.est;
    if (x >= K) return P;
    return P * pow(x / K, al);
}

int el_fit_knee(const double *x, const double *y, int n, int n_boot, uint64_t seed,
                el_knee_fit *out, el_err *err)
{
    if (!out) return el_errf(err, "knee fit: NULL result");
    memset(out, 0, sizeof *out);
    out->knee = out->plateau = out->alpha = (el_ci){NAN, NAN, NAN};
    out->r2 = out->r2_log = out->rmse = NAN;
    if (check_nboot(n_boot, err)) return -1;
    if (n < 0) return el_errf(err, "knee fit: negative number of observations (%d)", n);
    if (n == 0) return el_errf(err, "knee fit: no observations");
    if (!x || !y) return el_errf(err, "knee fit: NULL data");
    for (int i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i]))
            return el_errf(err, "knee fit: observation %d (x = %g, y = %g) is not finite", i, x[i],
                           y[i]);
        if (!(x[i] > 0))
            return el_errf(err, "knee fit: x[%d] = %g is not positive (the law is fitted in logs)",
                           i, x[i]);
        if (!(y[i] > 0))
            return el_errf(err, "knee fit: y[%d] = %g is not positive (the law is fitted on log(cost))",
                           i, y[i]);
    }
    double *lx = el_calloc((size_t)n, sizeof(double), err);
    double *ly = lx ? el_calloc((size_t)n, sizeof(double), err) : NULL;
    if (!ly) {
        free(lx);
        return -1;
    }
    for (int i = 0; i < n; i++) lx[i] = log(x[i]), ly[i] = log(y[i]);
    groups g;
    int rc = groups_build(lx, ly, n, "knee fit", &g, err);
    free(lx);
    free(ly);
    if (rc) return -1;
    if (g.n_x < 3) {
        el_errf(err, "knee fit: need at least 3 distinct x values, got %d (n = %d)", g.n_x, n);
        groups_free(&g);
        return -1;
    }
    int G = g.n_x;
    double *w = el_calloc((size_t)G, sizeof(double), err);
    double *ym = w ? el_calloc((size_t)G, sizeof(double), err) : NULL;
    if (!ym) {
        free(w);
        groups_free(&g);
        return -1;
    }
    for (int j = 0; j < G; j++) w[j] = g.start[j + 1] - g.start[j];
    group_means(&g, g.y, ym);
    knee_data d = {G, g.gx, w, ym, (double)n};
    double within = 0;
    for (int j = 0; j < G; j++)
        for (int i = g.start[j]; i < g.start[j + 1]; i++) within += (g.y[i] - ym[j]) * (g.y[i] - ym[j]);
    double rss_b, p, al, szz, zbar;
    double k = knee_best(&d, KFREE, 0, &rss_b);
    knee_rss(&d, k, &p, &al, &szz, &zbar);
    double rss_log = rss_b + within;
    out->n = n;
    out->n_x = G;
    out->knee.est = exp(k);
    out->plateau.est = exp(p);
    out->alpha.est = al;
    /* goodness of fit, in logs and in y units */
    double tss_log = 0, sy = 0;
    for (int i = 0; i < n; i++) {
        tss_log += (g.y[i] - g.ybar) * (g.y[i] - g.ybar);
        sy += y[i];
    }
    double ybar = sy / n, rss_y = 0, tss_y = 0;
    int below = 0;
    for (int i = 0; i < n; i++) {
        double r = y[i] - el_knee_eval(out, x[i]);
        rss_y += r * r;
        tss_y += (y[i] - ybar) * (y[i] - ybar);
        below += x[i] < out->knee.est;
    }
    out->r2_log = tss_log > 0 ? 1 - rss_log / tss_log : 1.0;
    out->r2 = tss_y > 0 ? 1 - rss_y / tss_y : 1.0;
    out->rmse = sqrt(rss_y / n);
    out->n_below = below;
    if (!isfinite(out->knee.est) || !isfinite(out->plateau.est) || !isfinite(al)) {
        free(w);
        free(ym);
        groups_free(&g);
        return el_errf(err, "knee fit: numerical overflow");
    }

    if (g.repeats && n_boot > 0) {
        double *bk = el_calloc((size_t)n_boot * 3, sizeof(double), err);
        double *yb = bk ? el_calloc((size_t)n, sizeof(double), err) : NULL;
        double *ymb = yb ? el_calloc((size_t)G, sizeof(double), err) : NULL;
        if (!ymb) {
            free(bk);
            free(yb);
            free(w);
            free(ym);
            groups_free(&g);
            return -1;
        }
        rng r;
        rng_seed(&r, seed);
        knee_data db = {G, g.gx, w, ymb, (double)n};
        for (int b = 0; b < n_boot; b++) {
            resample(&g, &r, yb);
            group_means(&g, yb, ymb);
            double pb, ab;
            double kb = knee_best(&db, KFREE, 0, NULL);
            knee_rss(&db, kb, &pb, &ab, NULL, NULL);
            bk[b] = exp(kb);
            bk[n_boot + b] = exp(pb);
            bk[2 * n_boot + b] = ab;
        }
        percentile_ci(bk, n_boot, &out->knee.lo, &out->knee.hi);
        percentile_ci(bk + n_boot, n_boot, &out->plateau.lo, &out->plateau.hi);
        percentile_ci(bk + 2 * n_boot, n_boot, &out->alpha.lo, &out->alpha.hi);
        out->n_boot = n_boot;
        free(bk);
        free(yb);
        free(ymb);
    } else if (n > 3) {
        /* No bootstrap: profile intervals, {v : RSS minimised with the
         * parameter held at v <= RSS_min (1 + t^2/df)} (the F test of one
         * parameter, F(1, df) = t^2). */
        int df = n - 3;
        double tq = el_student_t_quantile(CI_HI, df);
        double s2 = rss_log / df;
        double thr = rss_log * (1 + tq * tq / df) - within;   /* on the between part */
        double klo = g.gx[0], khi = g.gx[G - 1], step = (khi - klo) / (KNEE_SCAN - 1);
        double edge[2];
        for (int dir = 0; dir < 2; dir++) {
            double inside = k, sgn = dir ? 1 : -1, lim = dir ? khi : klo;
            edge[dir] = lim;
            for (int i = 1; i < KNEE_SCAN; i++) {
                double kk = k + sgn * i * step;
                bool last = dir ? kk >= khi : kk <= klo;
                if (last) kk = lim;
                if (knee_rss(&d, kk, NULL, NULL, NULL, NULL) > thr) {
                    double a = inside, b = kk;   /* bisect the crossing */
                    for (int it = 0; it < 60; it++) {
                        double m = 0.5 * (a + b);
                        if (knee_rss(&d, m, NULL, NULL, NULL, NULL) > thr) b = m;
                        else a = m;
                    }
                    edge[dir] = a;
                    break;
                }
                inside = kk;
                if (last) break;
            }
        }
        out->knee.lo = exp(edge[0]);
        out->knee.hi = exp(edge[1]);
        /* steps from the standard errors at the chosen knee */
        double se_al = szz > 0 ? sqrt(s2 / szz) : NAN;
        double se_p = szz > 0 ? sqrt(s2 * (1.0 / n + zbar * zbar / szz)) : sqrt(s2 / n);
        double plo, phi;
        knee_profile(&d, KALPHA, al, se_al, thr, &out->alpha.lo, &out->alpha.hi);
        knee_profile(&d, KPLAT, p, se_p, thr, &plo, &phi);
        out->plateau.lo = exp(plo);
        out->plateau.hi = exp(phi);
        out->n_boot = 0;
    }
    free(w);
    free(ym);
    groups_free(&g);
    return 0;
}

/* ======================================================================== */
/* comparison                                                               */
/* ======================================================================== */

static double pct_red(double base, double other)
{
    if (base == 0) return NAN;
    return 100.0 * (base - other) / base;
}

/* sum over the common groups of the mean y */
static double common_total(const groups *g, const int *idx, int nc, const double *y)
{
    double t = 0;
    for (int c = 0; c < nc; c++) {
        int j = idx[c], s = g->start[j], k = g->start[j + 1] - s;
        double m = 0;
        for (int i = s; i < s + k; i++) m += y[i];
        t += m / k;
    }
    return t;
}

/* delta-method CI of 100 (B - O) / B for independent B, O */
static el_ci pct_delta(double B, double vB, double O, double vO, double tq)
{
    el_ci r = {pct_red(B, O), NAN, NAN};
    if (B == 0) return r;
    double se = 100 * sqrt(vO / (B * B) + O * O * vB / (B * B * B * B));
    r.lo = r.est - tq * se;
    r.hi = r.est + tq * se;
    return r;
}

int el_compare_sets(const double *xb, const double *yb, int nb, const double *xo,
                    const double *yo, int no, int n_boot, uint64_t seed, el_comparison *out,
                    el_err *err)
{
    if (!out) return el_errf(err, "comparison: NULL result");
    memset(out, 0, sizeof *out);
    out->total_pct = out->intercept_pct = out->slope_pct = (el_ci){NAN, NAN, NAN};
    if (check_nboot(n_boot, err)) return -1;
    groups gb, go;
    if (groups_build(xb, yb, nb, "comparison: baseline", &gb, err)) return -1;
    if (groups_build(xo, yo, no, "comparison: other", &go, err)) {
        groups_free(&gb);
        return -1;
    }
    int rc = -1;
    int *cb = NULL, *co = NULL;
    double *bb = NULL, *bo = NULL, *pb = NULL;
    if (gb.n_x < 2 || go.n_x < 2) {
        el_errf(err, "comparison: need at least 2 distinct x values in each set (baseline %d, other %d)",
                gb.n_x, go.n_x);
        goto done;
    }
    /* the x present in both */
    int cap = gb.n_x < go.n_x ? gb.n_x : go.n_x, nc = 0;
    cb = el_calloc((size_t)cap, sizeof(int), err);
    co = cb ? el_calloc((size_t)cap, sizeof(int), err) : NULL;
    if (!co) goto done;
    for (int i = 0, j = 0; i < gb.n_x && j < go.n_x;) {
        if (gb.gx[i] < go.gx[j]) i++;
        else if (gb.gx[i] > go.gx[j]) j++;
        else cb[nc] = i++, co[nc++] = j++;
    }
    if (nc == 0) {
        el_errf(err, "comparison: the two sets have no x value in common");
        goto done;
    }
    out->n_common_x = nc;
    el_linear_fit fb, fo;
    memset(&fb, 0, sizeof fb);
    memset(&fo, 0, sizeof fo);
    if (linear_core(&gb, &fb, err) || linear_core(&go, &fo, err)) goto done;
    out->a_base = fb.a.est, out->b_base = fb.b.est;
    out->a_other = fo.a.est, out->b_other = fo.b.est;
    out->total_base = common_total(&gb, cb, nc, gb.y);
    out->total_other = common_total(&go, co, nc, go.y);
    out->total_pct.est = pct_red(out->total_base, out->total_other);
    out->intercept_pct.est = pct_red(out->a_base, out->a_other);
    out->slope_pct.est = pct_red(out->b_base, out->b_other);
    if (gb.repeats && go.repeats && n_boot > 0) {
        bb = el_calloc((size_t)gb.n, sizeof(double), err);
        bo = bb ? el_calloc((size_t)go.n, sizeof(double), err) : NULL;
        pb = bo ? el_calloc((size_t)n_boot * 3, sizeof(double), err) : NULL;
        if (!pb) goto done;
        rng r;
        rng_seed(&r, seed);
        for (int k = 0; k < n_boot; k++) {
            double a1, b1, a2, b2;
            resample(&gb, &r, bb);
            resample(&go, &r, bo);
            line_fit(&gb, bb, &a1, &b1);
            line_fit(&go, bo, &a2, &b2);
            pb[k] = pct_red(common_total(&gb, cb, nc, bb), common_total(&go, co, nc, bo));
            pb[n_boot + k] = pct_red(a1, a2);
            pb[2 * n_boot + k] = pct_red(b1, b2);
        }
        percentile_ci(pb, n_boot, &out->total_pct.lo, &out->total_pct.hi);
        percentile_ci(pb + n_boot, n_boot, &out->intercept_pct.lo, &out->intercept_pct.hi);
        percentile_ci(pb + 2 * n_boot, n_boot, &out->slope_pct.lo, &out->slope_pct.hi);
    } else {
        /* no repeats to resample: the delta method with the OLS variances
         * (per-observation variance of a total's means: the fit's s^2) */
        int df = (nb < no ? nb : no) - 2;
        double tq = df >= 1 ? el_student_t_quantile(CI_HI, df) : NAN;
        double s2b = nb > 2 ? fb.rmse * fb.rmse * nb / (nb - 2) : NAN;
        double s2o = no > 2 ? fo.rmse * fo.rmse * no / (no - 2) : NAN;
        double ib = 0, io = 0;
        for (int c = 0; c < nc; c++) {
            ib += 1.0 / (gb.start[cb[c] + 1] - gb.start[cb[c]]);
            io += 1.0 / (go.start[co[c] + 1] - go.start[co[c]]);
        }
        out->total_pct =
            pct_delta(out->total_base, s2b * ib, out->total_other, s2o * io, tq);
        out->intercept_pct =
            pct_delta(fb.a.est, fb.a_se * fb.a_se, fo.a.est, fo.a_se * fo.a_se, tq);
        out->slope_pct = pct_delta(fb.b.est, fb.b_se * fb.b_se, fo.b.est, fo.b_se * fo.b_se, tq);
    }
    rc = 0;
done:
    free(cb);
    free(co);
    free(bb);
    free(bo);
    free(pb);
    groups_free(&gb);
    groups_free(&go);
    return rc;
}
