/* study.h -- the study as a tool: the statistics of sweeps (fits of cost laws,
 * comparisons of a baseline against a compressed model) and SVG plots.
 *
 * Observations are (x, y) pairs: x is the prompt's size (tokens, or pixels for
 * images), y a measured cost (CPU AUC, RAM AUC, energy, ...). Several
 * observations may share one x (the repeats of a sweep); bootstrap confidence
 * intervals resample "over repeats": at every distinct x, its observations are
 * drawn with replacement (a stratified bootstrap), so every x level stays in
 * every resample. All intervals are two-sided 95% unless said otherwise. */
#ifndef EDGELM_STUDY_H
#define EDGELM_STUDY_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An estimate with its 95% confidence interval [lo, hi]. */
typedef struct el_ci {
    double est, lo, hi;
} el_ci;

/* ---- distributions -------------------------------------------------------- */

/* Student's t distribution with df > 0 degrees of freedom: P(T <= t). */
double el_student_t_cdf(double t, double df);
/* Its quantile: the t with P(T <= t) = p, for 0 < p < 1. */
double el_student_t_quantile(double p, double df);

/* ---- linear law: cost = a + b*x ------------------------------------------ */

typedef struct el_linear_fit {
    int n;          /* observations */
    int n_x;        /* distinct x values */
    int n_boot;     /* bootstrap resamples used (0: none possible) */
    /* ordinary least squares; CIs from the stratified bootstrap (percentile);
     * when it cannot be done (one observation per x) from Student's t */
    el_ci a, b;
    double a_se, b_se;   /* OLS standard errors */
    double r2;           /* coefficient of determination of the linear fit */
    double rmse;         /* root mean square residual */
    /* the quadratic term: cost = a2 + b2*x + c*x^2 (attention's share) */
    double a2, b2, c;
    double c_se;         /* OLS standard error of c */
    double c_t;          /* c / c_se */
    double c_p;          /* two-sided p-value of c = 0 (Student's t, n-3 df) */
    double r2_quad;      /* R^2 of the quadratic fit */
    double quad_share;   /* c*xmax^2 / (a2 + b2*xmax + c*xmax^2): the quadratic
                            term's share of the cost at the largest x */
    double x_min, x_max;
} el_linear_fit;

/* Fit y = a + b*x. resid (may be NULL) receives the n residuals y - (a + b*x).
 * n_boot resamples (e.g. 2000) with a deterministic generator seeded by seed.
 * Errors (fewer than 2 distinct x, non-finite values, out of memory) fill err
 * and return -1; the quadratic figures are NAN when there are fewer than 3
 * distinct x or fewer than 4 observations. */
int el_fit_linear(const double *x, const double *y, int n, int n_boot, uint64_t seed,
                  double *resid, el_linear_fit *out, el_err *err);

/* The fitted line's 95% confidence band at x (for plots): from the same
 * bootstrap when the fit used one (percentiles of a + b*x over resamples),
 * else from the OLS covariance with Student's t. Recomputes the fit from the
 * data; writes lo[i], hi[i] for the m points xs[i]. */
int el_linear_band(const double *x, const double *y, int n, int n_boot, uint64_t seed,
                   const double *xs, int m, double *lo, double *hi, el_err *err);

/* ---- knee law: a power law below the knee, a plateau above it ------------ */
/*   cost = plateau * (x / knee)^alpha   for x <  knee
 *   cost = plateau                      for x >= knee
 * (continuous at the knee). Fitted by least squares on log(cost), so every y
 * must be > 0 and every x > 0: for each candidate knee the model is linear in
 * (log plateau, alpha); the knee minimising the residual sum of squares is
 * found by a scan over the data's x range followed by a golden-section
 * refinement. CIs from the stratified bootstrap. */
typedef struct el_knee_fit {
    int n, n_x, n_boot;
    el_ci knee;       /* position of the knee, in x units */
    el_ci plateau;    /* the level above the knee, in y units */
    el_ci alpha;      /* the power-law exponent below the knee */
    double r2;        /* R^2 in y units (not logs) */
    double r2_log;    /* R^2 of log(cost) */
    double rmse;      /* in y units */
    int n_below;      /* observations with x < knee */
} el_knee_fit;

int el_fit_knee(const double *x, const double *y, int n, int n_boot, uint64_t seed,
                el_knee_fit *out, el_err *err);
/* Value of the knee law at x. */
double el_knee_eval(const el_knee_fit *f, double x);

/* ---- comparison: baseline versus other (e.g. compressed) ------------------ */

/* Percentage reduction 100 * (base - other) / base of three figures, each with
 * a bootstrap CI (both data sets resampled independently, stratified by x):
 *   total     -- sum over the x values present in both sets of the mean y;
 *   intercept -- a of the linear fits;
 *   slope     -- b of the linear fits.
 * Positive = other is cheaper. */
typedef struct el_comparison {
    int n_common_x;
    double total_base, total_other;
    double a_base, a_other, b_base, b_other;
    el_ci total_pct, intercept_pct, slope_pct;
} el_comparison;

int el_compare_sets(const double *xb, const double *yb, int nb, const double *xo,
                    const double *yo, int no, int n_boot, uint64_t seed, el_comparison *out,
                    el_err *err);

/* ---- SVG plots ----------------------------------------------------------- */

enum { EL_SERIES_POINTS = 0, EL_SERIES_LINE = 1, EL_SERIES_BAND = 2, EL_SERIES_STEP = 3 };

typedef struct el_plot_series {
    const char *label;      /* legend text (NULL or "": not in the legend) */
    int kind;               /* EL_SERIES_* */
    const double *x, *y;    /* n points (POINTS, LINE, STEP) */
    const double *y_lo, *y_hi; /* BAND: the band between y_lo and y_hi (y unused);
                                  POINTS: optional error bars (may be NULL) */
    int n;
    const char *color;      /* CSS colour, e.g. "#1f77b4"; NULL: the palette's next */
    bool dashed;
} el_plot_series;

typedef struct el_plot {
    const char *title, *xlabel, *ylabel;
    bool xlog, ylog;        /* logarithmic axes (non-positive values are skipped) */
    int width, height;      /* pixels; 0 = 640 x 400 */
    const el_plot_series *series;
    int n_series;
    /* optional vertical marker (e.g. the knee) with a shaded interval
     * (its CI); NAN = none */
    double vline_x, vspan_lo, vspan_hi;
    const char *vline_label;
} el_plot;

/* Render the plot as one self-contained <svg> element (UTF-8, no external
 * references, text XML-escaped), suitable both as a file and inline in HTML.
 * The root element carries class="el-plot" and data-series="N" (series drawn)
 * and data-points="M" (finite points drawn), so tests can check what rendered.
 * Non-finite values are skipped. Returns a malloc'd string, or NULL with err. */
char *el_plot_svg(const el_plot *p, el_err *err);

#ifdef __cplusplus
}
#endif
#endif
