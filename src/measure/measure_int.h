/* measure_int.h -- the profiler's internal pieces: procfs readers, energy
 * sources, CSV helpers. Not part of the public API (tests include it). */
#ifndef EL_MEASURE_INT_H
#define EL_MEASURE_INT_H

#include <stdio.h>
#include <string.h>

#include "edgelm/measure.h"

/* Copy a string, truncating to cap-1 bytes. */
static inline void el_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

/* "<root><rel>" into buf (root "/" or "" means the real root). */
void el_mpath(char *buf, size_t cap, const char *root, const char *rel);
/* Read a whole small file (up to cap-1 bytes) into buf, NUL-terminated.
 * Returns bytes read or -1. */
long el_read_small(const char *path, char *buf, size_t cap);
/* pread from offset 0 of an open fd, NUL-terminated; bytes or -1. */
long el_pread_all(int fd, char *buf, size_t cap);
/* Whole file into a malloc'd NUL-terminated buffer. */
char *el_slurp(const char *path, size_t *len, el_err *err);

/* ---- system-wide counters: /proc/stat, /proc/meminfo ---------------------- */
typedef struct el_sysreader {
    int fd_stat, fd_meminfo;
    int n_cpus;
    double mem_total_mb;
    double tick_s;       /* seconds per clock tick (1 / USER_HZ) */
} el_sysreader;

typedef struct el_sysreading {
    unsigned long long busy_ticks, total_ticks; /* summed over all cpus */
    double mem_used_mb;
} el_sysreading;

int el_sysreader_open(el_sysreader *s, const char *root, el_err *err);
/* want_mem: also read /proc/meminfo (else r->mem_used_mb is left as is). */
int el_sysreader_read(el_sysreader *s, el_sysreading *r, bool want_mem, el_err *err);
void el_sysreader_close(el_sysreader *s);
/* Parsers (pure): the "cpu" line of /proc/stat and two meminfo keys. */
int el_parse_proc_stat(const char *text, unsigned long long *busy, unsigned long long *total,
                       int *n_cpus);
int el_parse_meminfo(const char *text, double *total_mb, double *avail_mb);

/* ---- the process tree ----------------------------------------------------- */
typedef struct el_tree el_tree;

typedef struct el_treereading {
    /* sum over live tree processes of utime+cutime and stime+cstime (ticks) */
    unsigned long long user_ticks, sys_ticks;
    double rss_mb, pss_mb;    /* pss_mb < 0 when unavailable */
    int n_procs;
} el_treereading;

el_tree *el_tree_open(const char *root, double tick_s, el_err *err);
/* Track pid and all its descendants (pid <= 0: nothing). */
int el_tree_set_root(el_tree *tr, int pid, el_err *err);
/* One reading; want_pss reads smaps_rollup (costly) this time; discover looks
 * for new descendants first. */
int el_tree_read(el_tree *tr, bool want_pss, bool discover, el_treereading *r, el_err *err);
void el_tree_close(el_tree *tr);
/* Parse /proc/PID/stat: ppid, utime, stime, cutime, cstime, num_threads. */
int el_parse_pid_stat(const char *text, int *ppid, unsigned long long t[4], long *nthreads);
/* ... and the resident set size (field 24, pages). */
int el_parse_pid_stat_rss(const char *text, int *ppid, unsigned long long t[4], long *nthreads, long *rss_pages);

/* ---- energy sources ------------------------------------------------------- */
typedef struct el_energy el_energy;

enum { EL_EN_NONE, EL_EN_RAPL, EL_EN_PERF, EL_EN_HWMON, EL_EN_PMIC, EL_EN_METER, EL_EN_MODEL };

/* spec as in el_profiler_config.energy. */
el_energy *el_energy_open(const char *spec, const char *root, double pmic_hz, el_err *err);
void el_energy_close(el_energy *e);
int el_energy_kind(const el_energy *e);
const char *el_energy_name(const el_energy *e);
const char *el_energy_label(const el_energy *e);
const char *el_energy_detail(const el_energy *e);
const char *el_energy_auto_log(const el_energy *e);
const el_power_profile *el_energy_profile(const el_energy *e); /* model only */
const char *el_energy_meter_path(const el_energy *e);            /* meter only */
/* Cumulative joules since open at time t (monotonic s). util: system CPU
 * utilisation in [0,1] over the interval since the previous call (used by the
 * model). Sets *joules to NAN for sources read later (meter). */
int el_energy_read(el_energy *e, double t, double util, double *joules, el_err *err);

/* Parsers (pure) used by the sources. */
/* Sum of V*I over rails of `vcgencmd pmic_read_adc` output; -1 if no rail. */
int el_parse_pmic(const char *text, double *watts, int *n_rails);

/* ---- small CSV helpers ---------------------------------------------------- */
/* Split a line in place on sep; returns field count (<= max). Trims spaces
 * and surrounding double quotes. */
int el_csv_split(char *line, char sep, char **fields, int max);
char el_csv_guess_sep(const char *line);
/* Parse a timestamp: number (s; ms if > 1e11) or ISO 8601 UTC. */
int el_parse_time(const char *s, double *out);

#endif
