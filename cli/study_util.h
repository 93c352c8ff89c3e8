/* study_util.h -- shared by `edgelm fit`, `compare` and `report`: fits of a
 * run's metric as JSON and tables, and the plots. */
#ifndef EL_STUDY_UTIL_H
#define EL_STUDY_UTIL_H

#include <stdio.h>

#include "edgelm/runfile.h"
#include "edgelm/study.h"

/* One metric of one run, fitted. */
typedef struct study_fit {
    const char *metric, *xkey, *unit;
    bool knee;
    double *x, *y, *resid;
    int n;
    el_linear_fit lin;
    el_knee_fit kf;
    int n_boot;
    uint64_t seed;
} study_fit;

/* Load the series and fit it (knee or linear). Returns -1 with err. */
int study_fit_run(const el_run *r, const char *xkey, const char *metric, bool knee, int n_boot, uint64_t seed,
                  study_fit *f, el_err *err);
void study_fit_free(study_fit *f);

/* JSON object of a fit (cJSON*, as void*). */
void *study_fit_json(const study_fit *f);
/* Human-readable table of a fit. */
void study_fit_print(FILE *out, const el_run *r, const study_fit *f);
/* Plot: the measurements, the fitted law and its 95% band (linear) or the
 * knee with its CI (knee). malloc'd SVG. */
char *study_fit_svg(const study_fit *f, const char *title, el_err *err);
/* Overlay of two runs' fits of the same metric (base vs other). */
char *study_overlay_svg(const study_fit *a, const char *la, const study_fit *b, const char *lb, const char *title,
                        el_err *err);

/* Comparison of one metric: JSON and a table row. */
typedef struct study_cmp {
    const char *metric, *unit;
    el_comparison c;
} study_cmp;
int study_compare(const el_run *base, const el_run *other, const char *xkey, const char *metric, int n_boot,
                  uint64_t seed, study_cmp *out, el_err *err);

/* The sampler trace of one window [t0, t1] (seconds since the profiler's
 * start) from a trace CSV: which = 0 the CPU of the tree (cores), 1 its RSS (MB). */
char *study_trace_svg(const char *trace_path, double t0, double t1, const char *title, int which, el_err *err);

/* Format a number with 4 significant digits ("%.4g"), or "-" if not finite. */
const char *study_num(char *buf, size_t cap, double v);

/* Options fit and compare share: --metric/-M, --x, --boot, --seed, -o/--format. */
typedef struct study_opts {
    const char *metrics, *xkey, *fmt;
    long long boot, seed;
} study_opts;
/* argv[*i] one of them? 1: taken (and its value, *i moved on), 0: not one of
 * them, -1: a bad value (the message is printed; exit with 2). */
int study_common_opt(const char *cmd, int argc, char **argv, int *i, study_opts *o);

#endif
