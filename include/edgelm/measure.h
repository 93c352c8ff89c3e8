/* measure.h -- the profiler: a sampler thread, an idle baseline, windows,
 * area-under-curve (AUC) and energy, for edgelm's own prompts and for any
 * other process tree.
 *
 * The method is the study's (../shared/docs/MISSION.md): sample CPU and RAM
 * utilisation (5 Hz by default), subtract a stable idle baseline, find each
 * prompt's window (from markers, or from the gradient of the CPU signal) and
 * integrate with the trapezoidal rule, AUC = sum (u_i + u_{i+1})/2 * dt.
 * Energy comes from the best source available (RAPL, perf, hwmon, the
 * Raspberry Pi 5 PMIC, an external meter's log) or, where none exists, from a
 * utilisation power model; every energy figure is labelled "measured" or
 * "estimated".
 *
 * In-process use:
 *
 *     el_profiler_config cfg = el_profiler_defaults();   // 5 Hz, self
 *     el_profiler *p = el_profiler_new(&cfg, &err);
 *     el_profiler_start(p, &err);        // sampler thread; idle phase
 *     el_profiler_wait_idle(p);          // sleep until cfg.idle_s has passed
 *     el_profiler_begin(p, "prompt-1");  // opens a window (exact timestamp)
 *     ... work ...
 *     el_profiler_end(p, "prompt-1");
 *     el_profiler_stop(p, &err);         // final sample, analysis
 *     el_profiler_write_json(p, "out.json", &err);
 *     el_profiler_free(p);
 *
 * Every file reader takes a root directory (cfg.root, default "/") so tests
 * can point it at fake /proc and /sys trees. With cfg.hz == 0 there is no
 * thread: the caller takes each sample with el_profiler_tick(p, t) at an
 * explicit time (used by the tests for exact, hand-computed results). */
#ifndef EDGELM_MEASURE_H
#define EDGELM_MEASURE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- samples ------------------------------------------------------------ */

enum { EL_PHASE_IDLE = 0, EL_PHASE_RUN = 1 };

/* One sample. Cumulative values count from the start of the profiler (system)
 * or from the moment the tree was attached (tree); rates ("cores", "power_w")
 * are averages over the interval since the previous sample. */
typedef struct el_sample {
    double t;           /* monotonic seconds since el_profiler_start */
    double unix_s;      /* wall-clock time of the sample (CLOCK_REALTIME) */
    int phase;          /* EL_PHASE_IDLE / EL_PHASE_RUN */
    int n_procs;        /* processes in the measured tree */
    double tree_user_s; /* cumulative user CPU of the tree (s) */
    double tree_sys_s;  /* cumulative system CPU of the tree (s) */
    double tree_cores;  /* tree CPU utilisation over the last interval (cores) */
    double sys_busy_s;  /* cumulative busy CPU time of the whole system (core*s) */
    double sys_cores;   /* system CPU utilisation over the last interval (busy cores) */
    double rss_mb;      /* resident memory of the tree (MB = 2^20 bytes) */
    double pss_mb;      /* proportional set size of the tree (NAN if unavailable) */
    double sys_mem_mb;  /* system memory in use: MemTotal - MemAvailable (MB) */
    double energy_j;    /* cumulative energy since start (J; NAN if no source) */
    double power_w;     /* mean power over the last interval (W; NAN if none) */
} el_sample;

/* ---- configuration ------------------------------------------------------ */

typedef struct el_window_params {
    double k_sigma;    /* activity threshold in idle standard deviations (5) */
    double min_rise;   /* ... and at least this far above baseline, in cores (0.1) */
    double min_s;      /* drop windows shorter than this (0: keep all) */
    double merge_s;    /* merge windows separated by gaps shorter than this (0) */
} el_window_params;

typedef struct el_profiler_config {
    double hz;            /* sampling rate; 0 = no thread, el_profiler_tick() (5) */
    double idle_s;        /* idle baseline before the run, for el_profiler_wait_idle (3) */
    const char *root;     /* root of /proc and /sys ("/") */
    int pid;              /* tree root: 0 = this process, -1 = none until attach (0) */
    const char *energy;   /* "auto", "none", "rapl", "rapl+dram", "perf", "hwmon",
                             "pmic", "pmic:wall", "meter:FILE", "model:rpi5",
                             "model:x86[:TDP=W[,idle=W]]", "model:idle=W,max=W",
                             "model:FILE.json" ("auto") */
    double meter_offset_s;/* added to the meter log's timestamps (0) */
    const char *trace_path;/* trace CSV written while sampling (NULL: none) */
    double pss_hz;        /* max rate of PSS reads (smaps_rollup is costly) (5) */
    double pmic_hz;       /* max rate of `vcgencmd pmic_read_adc` (2) */
    bool auto_windows;    /* detect windows from the CPU gradient (true) */
    el_window_params win;
} el_profiler_config;

el_profiler_config el_profiler_defaults(void);

/* ---- results ------------------------------------------------------------ */

enum { EL_WIN_RUN = 0, EL_WIN_MARKER = 1, EL_WIN_AUTO = 2 };

/* Everything measured over one window [t0, t1] (sample-aligned). AUCs are
 * above the idle baseline. "pct" CPU figures are percent of the whole machine
 * (100% = all n_cpus busy); "pct" RAM figures are percent of MemTotal. */
typedef struct el_window_stats {
    char name[64];
    int source;              /* EL_WIN_* */
    int i0, i1;              /* sample indices of the window's ends */
    double t0, t1, wall_s;
    /* CPU of the tree */
    double cpu_core_s;       /* AUC in core*s, from the cumulative counters */
    double cpu_trapz_core_s; /* the study's literal trapezoid over the samples */
    double cpu_pct_s;
    double user_s, sys_s;    /* CPU time used inside the window */
    /* CPU of the whole system */
    double sys_cpu_core_s, sys_cpu_pct_s;
    /* RAM */
    double ram_mb_s, ram_pct_s;  /* tree RSS */
    double pss_mb_s;             /* tree PSS (NAN if unavailable) */
    double sys_ram_mb_s;         /* system memory in use */
    double peak_rss_mb, peak_pss_mb;
    /* energy (NAN when there is no source) */
    double energy_j, energy_above_idle_j, mean_power_w;
    double energy_gap_s;         /* meter: time inside long gaps of the log */
    double energy_uncovered_s;   /* meter: time the log does not cover */
} el_window_stats;

typedef struct el_baseline {
    int n;                   /* idle samples used (rates need two) */
    double duration_s;
    double tree_cores, sys_cores, rss_mb, pss_mb, sys_mem_mb, power_w;
    double tree_cores_sd, sys_cores_sd;
} el_baseline;

typedef struct el_profile_result {
    bool complete;
    int n_cpus;
    double mem_total_mb;
    double hz;
    double t_run;            /* start of the run phase */
    el_baseline base;
    el_window_stats total;   /* the run: from the run start to the last sample */
    el_window_stats *windows;/* markers, then auto-detected windows */
    int n_windows;
    /* energy source */
    char energy_name[64];    /* e.g. "rapl", "model:x86" */
    char energy_label[16];   /* "measured" / "estimated" / "none" */
    char energy_detail[512]; /* what exactly was read, or the model and its source */
    char energy_auto_log[512]; /* why auto skipped the sources it skipped */
    /* the profiler's own cost */
    double sampler_cpu_s, sampler_wall_s;
    long n_samples;
} el_profile_result;

/* ---- the profiler ------------------------------------------------------- */

typedef struct el_profiler el_profiler;

el_profiler *el_profiler_new(const el_profiler_config *cfg, el_err *err);
void el_profiler_free(el_profiler *p);

/* Start sampling (idle phase). With hz > 0 this starts the sampler thread. */
int el_profiler_start(el_profiler *p, el_err *err);
/* Sleep until cfg.idle_s seconds have passed since start (returns early,
 * with -1, if *cancel becomes nonzero; cancel may be NULL). */
int el_profiler_wait_idle(el_profiler *p, volatile const int *cancel);
/* Set the root of the measured tree (e.g. a freshly forked child) and begin
 * the run phase; takes a sample at once. */
int el_profiler_attach(el_profiler *p, int pid, el_err *err);
/* Begin the run phase without changing the tree (done by attach and by the
 * first begin() too). */
int el_profiler_run(el_profiler *p, el_err *err);
/* Open / close a named window; each takes a sample at once, so the window's
 * ends are exact. end(NULL) closes the innermost open window. */
int el_profiler_begin(el_profiler *p, const char *name, el_err *err);
int el_profiler_end(el_profiler *p, const char *name, el_err *err);
/* Manual mode (hz == 0): take one sample at time t (seconds, increasing). */
int el_profiler_tick(el_profiler *p, double t, el_err *err);
/* Stop: final sample, stop the thread, read a meter log, analyse. */
int el_profiler_stop(el_profiler *p, el_err *err);
/* After stop: the whole run's peak RSS is at least mb (the profiled child's
 * own high-water mark from wait4's rusage: a child shorter than the sampling
 * period shows no sample of its own). */
void el_profiler_floor_peak_rss(el_profiler *p, double mb);

/* Mark the run incomplete (interrupted, child killed). */
void el_profiler_set_complete(el_profiler *p, bool complete);

/* While running: the statistics of the most recent closed window of this
 * name, over the samples so far, above the idle baseline of the samples so
 * far (a sweep writes each prompt's record as soon as its window closes).
 * Meter-log energy is only known at stop: NAN here. */
int el_profiler_window_now(el_profiler *p, const char *name, el_window_stats *out, el_err *err);
/* The idle baseline of the samples so far. */
int el_profiler_baseline_now(el_profiler *p, el_baseline *out);
/* The energy source in use (valid after el_profiler_new) and the machine. */
const char *el_profiler_energy_name(const el_profiler *p);
const char *el_profiler_energy_label(const el_profiler *p);
const char *el_profiler_energy_detail(const el_profiler *p);
int el_profiler_n_cpus(const el_profiler *p);
double el_profiler_mem_total_mb(const el_profiler *p);
const el_profile_result *el_profiler_results(const el_profiler *p);
const el_sample *el_profiler_samples(const el_profiler *p, long *n);

/* JSON (docs/profile-json.md). extra: a cJSON object (cast to void*) whose
 * members are added at the top level (e.g. command, exit status); may be NULL.
 * path "-" writes to stdout. */
int el_profiler_write_json(const el_profiler *p, const char *path, const void *extra,
                           el_err *err);
/* The whole trace as CSV (the same format the sampler writes incrementally). */
int el_profiler_write_trace_csv(const el_profiler *p, const char *path, el_err *err);

/* ---- analysis on plain arrays (also used by the profiler) -------------- */

/* AUC of (y - base) over samples [i0, i1] by the trapezoidal rule. */
double el_trapezoid(const double *t, const double *y, int i0, int i1, double base);

typedef struct el_window_span {
    int i0, i1;
} el_window_span;
/* Active windows of the signal u (sampled at t, n samples) above baseline
 * `base` with idle standard deviation `sd`: samples more than
 * max(k_sigma*sd, min_rise) above base start a window; its ends are found by
 * following the gradient down to the foot of each edge (the last sample at
 * idle level before the rise; the last sample above idle level before the
 * fall). Writes up to max spans; returns how many were found. */
int el_detect_windows(const double *t, const double *u, int n, double base, double sd,
                      const el_window_params *wp, el_window_span *out, int max);

/* ---- energy sources, power profiles, meter logs -------------------------- */

typedef struct el_power_profile {
    char name[64];
    double p_idle_w, p_max_w;  /* P = p_idle + (p_max - p_idle) * u, u in [0, 1] */
    char source[256];          /* where the numbers come from */
} el_power_profile;

/* "rpi5", "x86[:TDP=W[,idle=W]]", "idle=W,max=W" or a JSON file written by
 * el_power_profile_write (edgelm calibrate). */
int el_power_profile_get(const char *spec, el_power_profile *out, el_err *err);
/* Parse / write the JSON form {"schema":"edgelm-power-profile/1", ...}. */
int el_power_profile_parse(const char *text, size_t len, const char *name,
                           el_power_profile *out, el_err *err);
int el_power_profile_write(const el_power_profile *pp, const char *path, const void *fit,
                           el_err *err);

/* A meter log: timestamps (unix seconds) and watts. */
typedef struct el_meterlog {
    long n;
    double *t, *w;
    double median_dt;
} el_meterlog;
/* CSV with a header naming a time column and either a power column or volt
 * and amp columns; without a header, 2 columns = t,W and 3 columns = t,V,A.
 * Times: unix seconds, milliseconds (> 1e11) or ISO 8601 (UTC). */
int el_meterlog_parse(const char *text, size_t len, const char *name, el_meterlog *out,
                      el_err *err);
int el_meterlog_load(const char *path, el_meterlog *out, el_err *err);
void el_meterlog_free(el_meterlog *m);
/* Energy (J) between times a and b, with power linear between readings.
 * gap_s: time in [a,b] inside gaps longer than max_gap (linearly bridged);
 * uncovered_s: time in [a,b] outside the log (counted as 0 J). */
double el_meterlog_energy(const el_meterlog *m, double a, double b, double max_gap,
                          double *gap_s, double *uncovered_s);

/* A trace CSV written by the profiler, as needed by calibration. */
typedef struct el_trace {
    long n;
    double *unix_s, *sys_busy_s, *sys_cores;
    int n_cpus;
} el_trace;
int el_trace_parse(const char *text, size_t len, const char *name, el_trace *out, el_err *err);
int el_trace_load(const char *path, el_trace *out, el_err *err);
void el_trace_free(el_trace *tr);

/* Least-squares fit of P = p_idle + (p_max - p_idle) * u from a meter log and
 * a trace (u = system utilisation averaged over each meter interval). */
typedef struct el_power_fit {
    long n;
    double p_idle_w, p_max_w, rmse_w, r2, u_min, u_max;
} el_power_fit;
int el_power_fit_meter(const el_meterlog *m, const el_trace *tr, double max_gap,
                       el_power_fit *out, el_err *err);

#ifdef __cplusplus
}
#endif
#endif
