/* profiler.c -- the sampler thread, phases and markers, the trace CSV written
 * as it goes, and the analysis and JSON at the end. */
#include "measure_int.h"
#include "analysis.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TRACE_FLUSH_S 1.0
#define MAX_AUTO_WINDOWS 4096

typedef struct mark {
    char name[64];
    long i0, i1;  /* i1 < 0 while open */
} mark;

typedef struct trace_event {
    long i;
    char text[80];
} trace_event;

struct el_profiler {
    el_profiler_config cfg;
    char root[2048], energy_spec[4200], trace_path[4096];
    el_sysreader sys;
    el_tree *tree;
    el_energy *en;
    /* thread */
    pthread_t th;
    bool threaded, running, stop_flag;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    double sampler_cpu_s, sampler_wall_s;
    /* clocks */
    double t0_mono, t0_unix;
    bool started;
    /* samples */
    el_sample *s;
    long n, cap;
    el_sysreading sys0, sys_prev;
    bool have_sys;
    el_treereading tree_prev;
    bool tree_base_pending;
    double last_pss_t, last_slow_t;
    double energy_prev;
    /* phases, markers, events */
    int phase;
    bool run_pending, attach_pending;
    long i_run;
    mark *marks;
    int n_marks, cap_marks;
    int pending_begin[16], n_pending_begin;   /* mark indices waiting for the next sample */
    int pending_end[16], n_pending_end;
    trace_event *ev;
    long n_ev, cap_ev;
    char pending_ev[256];
    /* trace */
    int trace_fd;
    char *tbuf;
    size_t tlen, tcap;
    double last_flush_t;
    long next_row;
    char trace_err[256];
    /* results */
    bool stopped, complete;
    el_profile_result res;
};

el_profiler_config el_profiler_defaults(void)
{
    el_profiler_config c;
    memset(&c, 0, sizeof c);
    c.hz = 5;
    c.idle_s = 3;
    c.root = "/";
    c.pid = 0;
    c.energy = "auto";
    c.pss_hz = 5;
    c.pmic_hz = 2;
    c.auto_windows = true;
    c.win.k_sigma = 5;
    c.win.min_rise = 0.1;
    return c;
}

static double unix_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

el_profiler *el_profiler_new(const el_profiler_config *cfg, el_err *err)
{
    el_profiler_config def = el_profiler_defaults();
    if (!cfg) cfg = &def;
    if (!(cfg->hz >= 0 && cfg->hz <= 10000)) {
        el_errf(err, "profiler: hz must be in [0, 10000], got %g", cfg->hz);
        return NULL;
    }
    if (!(cfg->idle_s >= 0 && cfg->idle_s <= 86400)) {
        el_errf(err, "profiler: idle_s must be in [0, 86400], got %g", cfg->idle_s);
        return NULL;
    }
    el_profiler *p = el_calloc(1, sizeof *p, err);
    if (!p) return NULL;
    p->cfg = *cfg;
    snprintf(p->root, sizeof p->root, "%s", cfg->root && *cfg->root ? cfg->root : "/");
    snprintf(p->energy_spec, sizeof p->energy_spec, "%s", cfg->energy ? cfg->energy : "auto");
    snprintf(p->trace_path, sizeof p->trace_path, "%s", cfg->trace_path ? cfg->trace_path : "");
    p->cfg.root = p->root;
    p->cfg.energy = p->energy_spec;
    p->cfg.trace_path = p->trace_path[0] ? p->trace_path : NULL;
    if (p->cfg.pss_hz <= 0) p->cfg.pss_hz = 5;
    p->sys.fd_stat = p->sys.fd_meminfo = -1;
    p->trace_fd = -1;
    p->complete = true;
    p->last_pss_t = -INFINITY;
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (el_sysreader_open(&p->sys, p->root, err) != 0) goto fail;
    p->tree = el_tree_open(p->root, p->sys.tick_s, err);
    if (!p->tree) goto fail;
    int pid = cfg->pid == 0 ? (int)getpid() : cfg->pid;
    if (pid > 0) {
        if (el_tree_set_root(p->tree, pid, err) != 0) goto fail;
        p->tree_base_pending = true;
    }
    p->en = el_energy_open(p->energy_spec, p->root, cfg->pmic_hz > 0 ? cfg->pmic_hz : 2, err);
    if (!p->en) {
        el_err_prefix(err, "energy");
        goto fail;
    }
    if (p->cfg.trace_path) {
        p->trace_fd = open(p->trace_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (p->trace_fd < 0) {
            el_errf(err, "%s: cannot write trace: %s", p->trace_path, strerror(errno));
            goto fail;
        }
    }
    return p;
fail:
    el_profiler_free(p);
    return NULL;
}

void el_profiler_free(el_profiler *p)
{
    if (!p) return;
    if (p->running) {
        pthread_mutex_lock(&p->mu);
        p->stop_flag = true;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->th, NULL);
    }
    el_sysreader_close(&p->sys);
    el_tree_close(p->tree);
    el_energy_close(p->en);
    if (p->trace_fd >= 0) close(p->trace_fd);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->s);
    free(p->marks);
    free(p->ev);
    free(p->tbuf);
    free(p->res.windows);
    free(p);
}

/* ---- trace CSV ---------------------------------------------------------------- */

static const char *TRACE_COLUMNS =
    "t_s,unix_s,phase,n_procs,tree_user_s,tree_sys_s,tree_cores,sys_busy_core_s,sys_cores,"
    "rss_mb,pss_mb,sys_mem_mb,energy_j,power_w,event\n";

static int fmt_num(char *b, size_t cap, double v, const char *fmt)
{
    if (isnan(v)) return 0;  // empty field
    return snprintf(b, cap, fmt, v);
}

/* One CSV row for sample i (event text may be empty). */
static size_t format_row(const el_sample *s, const char *event, char *b, size_t cap)
{
    size_t n = 0;
#define PUT(...) n += (size_t)snprintf(b + n, n < cap ? cap - n : 0, __VA_ARGS__)
#define NUM(v, f) n += (size_t)fmt_num(b + n, n < cap ? cap - n : 0, v, f)
    PUT("%.6f,%.6f,%s,%d,%.3f,%.3f,%.4f,%.3f,%.4f,", s->t, s->unix_s, s->phase == EL_PHASE_IDLE ? "idle" : "run",
        s->n_procs, s->tree_user_s, s->tree_sys_s, s->tree_cores, s->sys_busy_s, s->sys_cores);
    PUT("%.3f,", s->rss_mb);
    NUM(s->pss_mb, "%.3f");
    PUT(",%.3f,", s->sys_mem_mb);
    NUM(s->energy_j, "%.6f");
    PUT(",");
    NUM(s->power_w, "%.4f");
    PUT(",%s\n", event);
#undef PUT
#undef NUM
    return n < cap ? n : cap - 1;
}

static void trace_header(const el_profiler *p, char *b, size_t cap)
{
    snprintf(b, cap,
             "# edgelm trace v1 hz=%g n_cpus=%d mem_total_mb=%.1f t0_unix=%.6f energy=%s (%s)\n%s",
             p->cfg.hz, p->sys.n_cpus, p->sys.mem_total_mb, p->t0_unix, el_energy_name(p->en),
             el_energy_label(p->en), TRACE_COLUMNS);
}

static int write_all(int fd, const char *b, size_t n)
{
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Append complete rows up to the last sample; flush them in one write. */
static void trace_flush(el_profiler *p, bool force)
{
    if (p->trace_fd < 0) return;
    double t = p->n ? p->s[p->n - 1].t : 0;
    if (!force && t - p->last_flush_t < TRACE_FLUSH_S && p->tlen < 65536) return;
    if (p->tlen && write_all(p->trace_fd, p->tbuf, p->tlen) != 0 && !p->trace_err[0])
        snprintf(p->trace_err, sizeof p->trace_err, "%.150s: write failed: %s", p->trace_path, strerror(errno));
    p->tlen = 0;
    fdatasync(p->trace_fd);
    p->last_flush_t = t;
}

static void trace_append(el_profiler *p, const char *text)
{
    if (p->trace_fd < 0) return;
    size_t n = strlen(text);
    if (p->tlen + n + 1 > p->tcap) {
        size_t nc = p->tcap ? p->tcap * 2 : 1 << 16;
        while (nc < p->tlen + n + 1) nc *= 2;
        char *nb = realloc(p->tbuf, nc);
        if (!nb) return;  // drop the row rather than fail the sampler
        p->tbuf = nb;
        p->tcap = nc;
    }
    memcpy(p->tbuf + p->tlen, text, n);
    p->tlen += n;
}

/* ---- sampling --------------------------------------------------------------- */

static int add_event(el_profiler *p, long i, const char *text)
{
    if (p->n_ev == p->cap_ev) {
        long nc = p->cap_ev ? p->cap_ev * 2 : 16;
        trace_event *ne = realloc(p->ev, (size_t)nc * sizeof *ne);
        if (!ne) return -1;
        p->ev = ne;
        p->cap_ev = nc;
    }
    p->ev[p->n_ev].i = i;
    el_copy(p->ev[p->n_ev].text, sizeof p->ev[0].text, text);
    p->n_ev++;
    return 0;
}

/* System memory and the search for new descendants change slowly and cost a
 * few syscalls each: at most every SLOW_PERIOD seconds, and at every marker. */
#define SLOW_PERIOD 0.05

/* Take one sample at time t (caller holds the lock). force: read everything. */
static int sample_now_f(el_profiler *p, double t, bool force, el_err *err)
{
    if (p->n > 0 && t <= p->s[p->n - 1].t) {
        if (p->threaded) t = p->s[p->n - 1].t + 1e-6;
        else return el_errf(err, "profiler: sample time %.6f is not after the previous %.6f", t, p->s[p->n - 1].t);
    }
    if (p->n == p->cap) {
        long nc = p->cap ? p->cap * 2 : 1024;
        el_sample *ns = realloc(p->s, (size_t)nc * sizeof *ns);
        if (!ns) return el_errf(err, "profiler: out of memory for %ld samples", nc);
        p->s = ns;
        p->cap = nc;
    }
    el_sample *s = &p->s[p->n];
    memset(s, 0, sizeof *s);
    s->t = t;
    s->unix_s = p->threaded ? unix_now() : p->t0_unix + t;
    // system
    bool slow = force || !p->threaded || p->n == 0 || t - p->last_slow_t >= SLOW_PERIOD * 0.999;
    if (slow) p->last_slow_t = t;
    el_sysreading sr = p->sys_prev;
    if (el_sysreader_read(&p->sys, &sr, slow, err) != 0) return -1;
    if (!p->have_sys) {
        p->sys0 = p->sys_prev = sr;
        p->have_sys = true;
    }
    unsigned long long dbusy = sr.busy_ticks >= p->sys_prev.busy_ticks ? sr.busy_ticks - p->sys_prev.busy_ticks : 0;
    unsigned long long dtot = sr.total_ticks >= p->sys_prev.total_ticks ? sr.total_ticks - p->sys_prev.total_ticks : 0;
    s->sys_busy_s = (double)(sr.busy_ticks - p->sys0.busy_ticks) * p->sys.tick_s;
    s->sys_cores = dtot ? (double)dbusy / (double)dtot * p->sys.n_cpus : 0;
    s->sys_mem_mb = sr.mem_used_mb;
    p->sys_prev = sr;
    // tree
    if (p->run_pending) {
        p->run_pending = false;
        p->phase = EL_PHASE_RUN;
        p->i_run = p->n;
    }
    s->phase = p->phase;
    double prev_t = p->n ? p->s[p->n - 1].t : t;
    double pss_period = 1.0 / p->cfg.pss_hz;
    bool want_pss = t - p->last_pss_t >= pss_period * 0.999;
    el_treereading tr;
    if (el_tree_read(p->tree, want_pss, slow || p->tree_base_pending, &tr, err) != 0) return -1;
    if (want_pss) p->last_pss_t = t;
    const el_sample *prev = p->n ? &p->s[p->n - 1] : NULL;
    double u = prev ? prev->tree_user_s : 0, sy = prev ? prev->tree_sys_s : 0;
    if (p->tree_base_pending) {
        p->tree_prev = tr;  // counting starts now
        p->tree_base_pending = false;
    }
    // monotone: a process leaving the tree without being reaped inside it
    // takes its counted time away; never count that as negative work
    if (tr.user_ticks > p->tree_prev.user_ticks) u += (double)(tr.user_ticks - p->tree_prev.user_ticks) * p->sys.tick_s;
    if (tr.sys_ticks > p->tree_prev.sys_ticks) sy += (double)(tr.sys_ticks - p->tree_prev.sys_ticks) * p->sys.tick_s;
    p->tree_prev = tr;
    s->tree_user_s = u;
    s->tree_sys_s = sy;
    s->tree_cores = prev && t > prev_t ? ((u + sy) - (prev->tree_user_s + prev->tree_sys_s)) / (t - prev_t) : 0;
    s->n_procs = tr.n_procs;
    s->rss_mb = tr.rss_mb;
    s->pss_mb = tr.pss_mb < 0 ? NAN : tr.pss_mb;
    // energy
    double j;
    if (el_energy_read(p->en, t, s->sys_cores / p->sys.n_cpus, &j, err) != 0) return -1;
    s->energy_j = j;
    s->power_w = prev && t > prev_t && !isnan(j) ? (j - prev->energy_j) / (t - prev_t) : NAN;
    if (!prev && !isnan(j)) s->power_w = NAN;
    p->n++;
    long i = p->n - 1;
    // markers waiting for this sample
    char evtext[256];
    snprintf(evtext, sizeof evtext, "%s", p->pending_ev);
    p->pending_ev[0] = 0;
    for (int k = 0; k < p->n_pending_begin; k++) p->marks[p->pending_begin[k]].i0 = i;
    for (int k = 0; k < p->n_pending_end; k++) p->marks[p->pending_end[k]].i1 = i;
    p->n_pending_begin = p->n_pending_end = 0;
    if (evtext[0]) add_event(p, i, evtext);
    if (p->trace_fd >= 0) {
        char row[1024];
        format_row(s, evtext, row, sizeof row);
        trace_append(p, row);
        trace_flush(p, false);
    }
    return 0;
}

static int sample_now(el_profiler *p, double t, el_err *err) { return sample_now_f(p, t, false, err); }

static void pend_event(el_profiler *p, const char *text)
{
    size_t n = strlen(p->pending_ev);
    snprintf(p->pending_ev + n, sizeof p->pending_ev - n, "%s%s", n ? "|" : "", text);
}

static void *sampler_main(void *arg)
{
    el_profiler *p = arg;
    double period = 1.0 / p->cfg.hz;
    double w0 = el_now();
    pthread_mutex_lock(&p->mu);
    double next = el_now() + period;
    while (!p->stop_flag) {
        struct timespec ts;
        ts.tv_sec = (time_t)next;
        ts.tv_nsec = (long)((next - (double)ts.tv_sec) * 1e9);
        int rc = pthread_cond_timedwait(&p->cv, &p->mu, &ts);
        if (p->stop_flag) break;
        if (rc != ETIMEDOUT) continue;
        double now = el_now();
        el_err err;
        if (sample_now(p, now - p->t0_mono, &err) != 0 && !p->trace_err[0])
            snprintf(p->trace_err, sizeof p->trace_err, "sampler: %.200s", err.msg);
        next += period;
        if (next < now) next = now + period;  // fell behind: skip missed ticks
    }
    struct timespec cpu;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
    p->sampler_cpu_s = (double)cpu.tv_sec + 1e-9 * (double)cpu.tv_nsec;
    p->sampler_wall_s = el_now() - w0;
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int el_profiler_start(el_profiler *p, el_err *err)
{
    if (p->started) return el_errf(err, "profiler: already started");
    p->started = true;
    p->t0_mono = el_now();
    p->t0_unix = unix_now();
    p->phase = EL_PHASE_IDLE;
    p->threaded = p->cfg.hz > 0;
    if (p->trace_fd >= 0) {
        char hdr[1024];
        trace_header(p, hdr, sizeof hdr);
        trace_append(p, hdr);
        trace_flush(p, true);
    }
    if (!p->threaded) return 0;
    pthread_mutex_lock(&p->mu);
    int rc = sample_now(p, 0, err);
    pthread_mutex_unlock(&p->mu);
    if (rc != 0) return -1;
    if (pthread_create(&p->th, NULL, sampler_main, p) != 0)
        return el_errf(err, "profiler: cannot start the sampler thread");
    p->running = true;
    return 0;
}

int el_profiler_wait_idle(el_profiler *p, volatile const int *cancel)
{
    while (el_now() - p->t0_mono < p->cfg.idle_s) {
        if (cancel && *cancel) return -1;
        double left = p->cfg.idle_s - (el_now() - p->t0_mono);
        if (left > 0.02) left = 0.02;
        if (left > 0) {
            struct timespec ts = {0, (long)(left * 1e9)};
            nanosleep(&ts, NULL);
        }
    }
    return 0;
}

/* In threaded mode, markers take a sample at once; in manual mode they apply
 * to the next el_profiler_tick. */
static int sample_if_threaded(el_profiler *p, el_err *err)
{
    if (!p->threaded) return 0;
    return sample_now_f(p, el_now() - p->t0_mono, true, err);
}

int el_profiler_attach(el_profiler *p, int pid, el_err *err)
{
    if (!p->started || p->stopped) return el_errf(err, "profiler: attach before start or after stop");
    pthread_mutex_lock(&p->mu);
    int rc = el_tree_set_root(p->tree, pid, err);
    if (rc == 0) {
        p->tree_base_pending = true;
        p->last_pss_t = -INFINITY;  // read the new tree's PSS at once
        if (p->phase == EL_PHASE_IDLE) p->run_pending = true;
        char ev[64];
        snprintf(ev, sizeof ev, "attach:%d", pid);
        pend_event(p, ev);
        rc = sample_if_threaded(p, err);
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

int el_profiler_run(el_profiler *p, el_err *err)
{
    if (!p->started || p->stopped) return el_errf(err, "profiler: run before start or after stop");
    pthread_mutex_lock(&p->mu);
    int rc = 0;
    if (p->phase == EL_PHASE_IDLE && !p->run_pending) {
        p->run_pending = true;
        pend_event(p, "run");
        rc = sample_if_threaded(p, err);
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

static void clean_name(char *dst, size_t cap, const char *name)
{
    snprintf(dst, cap, "%s", name && *name ? name : "window");
    for (char *c = dst; *c; c++)
        if (*c == ',' || *c == '\n' || *c == '\r' || *c == '|' || *c == '"') *c = '_';
}

int el_profiler_begin(el_profiler *p, const char *name, el_err *err)
{
    if (!p->started || p->stopped) return el_errf(err, "profiler: begin before start or after stop");
    pthread_mutex_lock(&p->mu);
    int rc = 0;
    if (p->n_marks == p->cap_marks) {
        int nc = p->cap_marks ? p->cap_marks * 2 : 16;
        mark *nm = realloc(p->marks, (size_t)nc * sizeof *nm);
        if (!nm) rc = el_errf(err, "profiler: out of memory for markers");
        else {
            p->marks = nm;
            p->cap_marks = nc;
        }
    }
    if (rc == 0 && p->n_pending_begin == 16) rc = el_errf(err, "profiler: too many markers before one sample");
    if (rc == 0) {
        mark *m = &p->marks[p->n_marks];
        clean_name(m->name, sizeof m->name, name);
        m->i0 = -1;
        m->i1 = -1;
        p->pending_begin[p->n_pending_begin++] = p->n_marks;
        p->n_marks++;
        if (p->phase == EL_PHASE_IDLE) p->run_pending = true;
        char ev[80];
        snprintf(ev, sizeof ev, "begin:%s", m->name);
        pend_event(p, ev);
        rc = sample_if_threaded(p, err);
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

int el_profiler_end(el_profiler *p, const char *name, el_err *err)
{
    if (!p->started || p->stopped) return el_errf(err, "profiler: end before start or after stop");
    pthread_mutex_lock(&p->mu);
    char nm[64];
    if (name) clean_name(nm, sizeof nm, name);
    int k = p->n_marks - 1;
    for (; k >= 0; k--) {
        bool pending = false;
        for (int q = 0; q < p->n_pending_end; q++) pending |= p->pending_end[q] == k;
        if (p->marks[k].i1 < 0 && !pending && (!name || strcmp(p->marks[k].name, nm) == 0)) break;
    }
    int rc = 0;
    if (k < 0) rc = el_errf(err, "profiler: no open window named '%s'", name ? name : "(any)");
    else if (p->n_pending_end == 16) rc = el_errf(err, "profiler: too many markers before one sample");
    else {
        p->pending_end[p->n_pending_end++] = k;
        char ev[80];
        snprintf(ev, sizeof ev, "end:%s", p->marks[k].name);
        pend_event(p, ev);
        rc = sample_if_threaded(p, err);
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

int el_profiler_tick(el_profiler *p, double t, el_err *err)
{
    if (p->threaded) return el_errf(err, "profiler: tick() is for manual mode (hz = 0)");
    if (!p->started || p->stopped) return el_errf(err, "profiler: tick before start or after stop");
    pthread_mutex_lock(&p->mu);
    int rc = sample_now(p, t, err);
    pthread_mutex_unlock(&p->mu);
    return rc;
}

void el_profiler_set_complete(el_profiler *p, bool complete) { p->complete = complete; }

int el_profiler_window_now(el_profiler *p, const char *name, el_window_stats *out, el_err *err)
{
    if (!p->started) return el_errf(err, "profiler: window_now before start");
    char nm[64];
    clean_name(nm, sizeof nm, name);
    pthread_mutex_lock(&p->mu);
    int rc = 0, k = p->n_marks - 1;
    for (; k >= 0; k--)
        if (strcmp(p->marks[k].name, nm) == 0) break;
    if (k < 0) rc = el_errf(err, "profiler: no window named '%s'", nm);
    else if (p->marks[k].i0 < 0 || p->marks[k].i1 < 0)
        rc = el_errf(err, "profiler: window '%s' is still open (or has no sample yet)", nm);
    else {
        el_baseline b;
        el_compute_baseline(p->s, p->n, &b);
        memset(out, 0, sizeof *out);
        el_window_compute(p->s, p->n, (int)p->marks[k].i0, (int)p->marks[k].i1, &b, p->sys.n_cpus,
                          p->sys.mem_total_mb, out);
        snprintf(out->name, sizeof out->name, "%s", nm);
        out->source = EL_WIN_MARKER;
        if (el_energy_kind(p->en) == EL_EN_METER) {
            out->energy_j = out->energy_above_idle_j = out->mean_power_w = NAN;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

int el_profiler_baseline_now(el_profiler *p, el_baseline *out)
{
    pthread_mutex_lock(&p->mu);
    el_compute_baseline(p->s, p->n, out);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

const char *el_profiler_energy_name(const el_profiler *p) { return el_energy_name(p->en); }
const char *el_profiler_energy_label(const el_profiler *p) { return el_energy_label(p->en); }
const char *el_profiler_energy_detail(const el_profiler *p) { return el_energy_detail(p->en); }
int el_profiler_n_cpus(const el_profiler *p) { return p->sys.n_cpus; }
double el_profiler_mem_total_mb(const el_profiler *p) { return p->sys.mem_total_mb; }

/* ---- analysis at stop --------------------------------------------------------- */

static int fill_meter_energy(el_profiler *p, el_err *err)
{
    el_meterlog m;
    if (el_meterlog_load(el_energy_meter_path(p->en), &m, err) != 0) return -1;
    double off = p->cfg.meter_offset_s;
    for (long i = 0; i < m.n; i++) m.t[i] += off;
    double gap = 2.5 * m.median_dt;
    p->s[0].energy_j = 0;
    p->s[0].power_w = NAN;
    for (long i = 1; i < p->n; i++) {
        double e = el_meterlog_energy(&m, p->s[i - 1].unix_s, p->s[i].unix_s, gap, NULL, NULL);
        p->s[i].energy_j = p->s[i - 1].energy_j + e;
        double dt = p->s[i].t - p->s[i - 1].t;
        p->s[i].power_w = dt > 0 ? e / dt : NAN;
    }
    // gaps and coverage per window, once the windows exist
    el_profile_result *r = &p->res;
    for (int w = -1; w < r->n_windows; w++) {
        el_window_stats *ws = w < 0 ? &r->total : &r->windows[w];
        el_meterlog_energy(&m, p->s[ws->i0].unix_s, p->s[ws->i1].unix_s, gap, &ws->energy_gap_s,
                           &ws->energy_uncovered_s);
    }
    el_meterlog_free(&m);
    return 0;
}

static void analyse(el_profiler *p)
{
    el_profile_result *r = &p->res;
    free(r->windows);
    r->windows = NULL;
    r->n_windows = 0;
    r->complete = p->complete;
    r->n_cpus = p->sys.n_cpus;
    r->mem_total_mb = p->sys.mem_total_mb;
    r->hz = p->cfg.hz;
    r->n_samples = p->n;
    r->sampler_cpu_s = p->sampler_cpu_s;
    r->sampler_wall_s = p->sampler_wall_s;
    snprintf(r->energy_name, sizeof r->energy_name, "%s", el_energy_name(p->en));
    snprintf(r->energy_label, sizeof r->energy_label, "%s", el_energy_label(p->en));
    snprintf(r->energy_detail, sizeof r->energy_detail, "%s", el_energy_detail(p->en));
    snprintf(r->energy_auto_log, sizeof r->energy_auto_log, "%s", el_energy_auto_log(p->en));
    if (p->n == 0) return;
    el_compute_baseline(p->s, p->n, &r->base);
    long i_run = p->phase == EL_PHASE_RUN ? p->i_run : 0;
    r->t_run = p->s[i_run].t;
    el_window_compute(p->s, p->n, (int)i_run, (int)(p->n - 1), &r->base, r->n_cpus, r->mem_total_mb, &r->total);
    snprintf(r->total.name, sizeof r->total.name, "run");
    r->total.source = EL_WIN_RUN;
    // markers (closed ones; still-open windows end at the last sample)
    int cap = p->n_marks;
    el_window_span *spans = NULL;
    int n_auto = 0;
    if (p->cfg.auto_windows && p->n - i_run >= 3) {
        int m = (int)(p->n - i_run);
        double *t = malloc((size_t)m * sizeof *t), *u = malloc((size_t)m * sizeof *u);
        spans = malloc(MAX_AUTO_WINDOWS * sizeof *spans);
        if (t && u && spans) {
            // the CPU counters tick at USER_HZ (100 Hz): at high sampling
            // rates one interval holds 0, 1 or 2 ticks. Detect on the rate over
            // a trailing window of at least 0.1 s (10 ticks) instead.
            long j = i_run;
            for (int i = 0; i < m; i++) {
                long gi = i_run + i;
                const el_sample *si = &p->s[gi];
                t[i] = si->t;
                while (j + 1 < gi && si->t - p->s[j + 1].t >= 0.1) j++;
                const el_sample *sj = &p->s[j];
                u[i] = i == 0 || si->t <= sj->t ? si->tree_cores
                                                : ((si->tree_user_s + si->tree_sys_s) - (sj->tree_user_s + sj->tree_sys_s)) /
                                                      (si->t - sj->t);
            }
        }
        if (t && u && spans) {
            n_auto = el_detect_windows(t, u, m, r->base.tree_cores, r->base.tree_cores_sd, &p->cfg.win, spans,
                                       MAX_AUTO_WINDOWS);
        }
        free(t);
        free(u);
    }
    cap += n_auto;
    if (cap > 0) r->windows = calloc((size_t)cap, sizeof *r->windows);
    if (r->windows) {
        for (int k = 0; k < p->n_marks; k++) {
            const mark *mk = &p->marks[k];
            if (mk->i0 < 0) continue;
            long i1 = mk->i1 >= 0 ? mk->i1 : p->n - 1;
            el_window_stats *w = &r->windows[r->n_windows++];
            el_window_compute(p->s, p->n, (int)mk->i0, (int)i1, &r->base, r->n_cpus, r->mem_total_mb, w);
            snprintf(w->name, sizeof w->name, "%s", mk->name);
            w->source = EL_WIN_MARKER;
        }
        for (int k = 0; k < n_auto; k++) {
            el_window_stats *w = &r->windows[r->n_windows++];
            el_window_compute(p->s, p->n, (int)(i_run + spans[k].i0), (int)(i_run + spans[k].i1), &r->base,
                              r->n_cpus, r->mem_total_mb, w);
            snprintf(w->name, sizeof w->name, "auto-%d", k + 1);
            w->source = EL_WIN_AUTO;
        }
    }
    free(spans);
}

int el_profiler_stop(el_profiler *p, el_err *err)
{
    if (!p->started) return el_errf(err, "profiler: stop before start");
    if (p->stopped) return 0;
    int rc = 0;
    if (p->running) {
        pthread_mutex_lock(&p->mu);
        p->stop_flag = true;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->th, NULL);
        p->running = false;
        pthread_mutex_lock(&p->mu);
        rc = sample_now_f(p, el_now() - p->t0_mono, true, err);
        pthread_mutex_unlock(&p->mu);
    } else if (p->n_pending_begin || p->n_pending_end || p->run_pending) {
        // manual mode: markers after the last tick apply to the last sample
        for (int k = 0; k < p->n_pending_begin; k++) p->marks[p->pending_begin[k]].i0 = p->n - 1;
        for (int k = 0; k < p->n_pending_end; k++) p->marks[p->pending_end[k]].i1 = p->n - 1;
    }
    p->stopped = true;
    trace_flush(p, true);
    analyse(p);
    if (rc == 0 && el_energy_kind(p->en) == EL_EN_METER && p->n > 0) {
        if (fill_meter_energy(p, err) != 0) rc = -1;
        else {
            // recompute energy figures from the filled samples
            el_profile_result *r = &p->res;
            el_baseline b;
            el_compute_baseline(p->s, p->n, &b);
            r->base.power_w = b.power_w;
            for (int w = -1; w < r->n_windows; w++) {
                el_window_stats *ws = w < 0 ? &r->total : &r->windows[w];
                ws->energy_j = p->s[ws->i1].energy_j - p->s[ws->i0].energy_j;
                ws->mean_power_w = ws->wall_s > 0 ? ws->energy_j / ws->wall_s : NAN;
                ws->energy_above_idle_j = isnan(b.power_w) ? NAN : ws->energy_j - b.power_w * ws->wall_s;
            }
        }
    }
    if (rc == 0 && p->trace_err[0]) rc = el_errf(err, "%s", p->trace_err);
    return rc;
}

const el_profile_result *el_profiler_results(const el_profiler *p) { return &p->res; }

void el_profiler_floor_peak_rss(el_profiler *p, double mb)
{
    if (mb > p->res.total.peak_rss_mb) p->res.total.peak_rss_mb = mb;
}

const el_sample *el_profiler_samples(const el_profiler *p, long *n)
{
    if (n) *n = p->n;
    return p->s;
}

/* ---- output ------------------------------------------------------------------- */

static void add_num(cJSON *o, const char *k, double v)
{
    if (isnan(v) || isinf(v)) cJSON_AddNullToObject(o, k);
    else cJSON_AddNumberToObject(o, k, v);
}

static cJSON *window_json(const el_profile_result *r, const el_window_stats *w)
{
    static const char *src[] = {"run", "marker", "auto"};
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "name", w->name);
    cJSON_AddStringToObject(o, "source", src[w->source]);
    add_num(o, "t_start_s", w->t0);
    add_num(o, "t_end_s", w->t1);
    add_num(o, "wall_s", w->wall_s);
    cJSON_AddNumberToObject(o, "samples", w->i1 - w->i0 + 1);
    cJSON *c = cJSON_AddObjectToObject(o, "cpu");
    if (c) {
        add_num(c, "auc_core_s", w->cpu_core_s);
        add_num(c, "auc_pct_s", w->cpu_pct_s);
        add_num(c, "auc_trapz_core_s", w->cpu_trapz_core_s);
        add_num(c, "user_s", w->user_s);
        add_num(c, "system_s", w->sys_s);
        add_num(c, "system_wide_auc_core_s", w->sys_cpu_core_s);
        add_num(c, "system_wide_auc_pct_s", w->sys_cpu_pct_s);
    }
    cJSON *m = cJSON_AddObjectToObject(o, "ram");
    if (m) {
        add_num(m, "auc_mb_s", w->ram_mb_s);
        add_num(m, "auc_pct_s", w->ram_pct_s);
        add_num(m, "pss_auc_mb_s", w->pss_mb_s);
        add_num(m, "peak_rss_mb", w->peak_rss_mb);
        add_num(m, "peak_pss_mb", w->peak_pss_mb);
        add_num(m, "system_wide_auc_mb_s", w->sys_ram_mb_s);
    }
    cJSON *e = cJSON_AddObjectToObject(o, "energy");
    if (e) {
        cJSON_AddStringToObject(e, "label", r->energy_label);
        cJSON_AddStringToObject(e, "source", r->energy_name);
        add_num(e, "joules", w->energy_j);
        add_num(e, "above_idle_j", w->energy_above_idle_j);
        add_num(e, "mean_power_w", w->mean_power_w);
        if (strcmp(r->energy_name, "meter") == 0) {
            add_num(e, "gap_s", w->energy_gap_s);
            add_num(e, "uncovered_s", w->energy_uncovered_s);
        }
    }
    return o;
}

int el_profiler_write_json(const el_profiler *p, const char *path, const void *extra, el_err *err)
{
    const el_profile_result *r = &p->res;
    cJSON *j = cJSON_CreateObject();
    if (!j) return el_errf(err, "out of memory");
    cJSON_AddStringToObject(j, "schema", "edgelm-profile/1");
    cJSON_AddStringToObject(j, "edgelm_version", EL_VERSION_STRING);
    cJSON_AddBoolToObject(j, "complete", r->complete);
    if (extra) {
        for (const cJSON *it = ((const cJSON *)extra)->child; it; it = it->next) {
            cJSON *dup = cJSON_Duplicate(it, 1);
            if (dup) cJSON_AddItemToObject(j, it->string, dup);
        }
    }
    cJSON *m = cJSON_AddObjectToObject(j, "machine");
    if (m) {
        cJSON_AddNumberToObject(m, "n_cpus", r->n_cpus);
        add_num(m, "mem_total_mb", r->mem_total_mb);
    }
    cJSON *s = cJSON_AddObjectToObject(j, "sampling");
    if (s) {
        cJSON_AddNumberToObject(s, "hz", r->hz);
        cJSON_AddNumberToObject(s, "samples", (double)r->n_samples);
        add_num(s, "t0_unix", p->t0_unix);
        add_num(s, "idle_s", p->cfg.idle_s);
        add_num(s, "sampler_cpu_s", r->sampler_cpu_s);
        add_num(s, "sampler_wall_s", r->sampler_wall_s);
        add_num(s, "overhead_pct_of_one_core",
                r->sampler_wall_s > 0 ? 100.0 * r->sampler_cpu_s / r->sampler_wall_s : NAN);
    }
    cJSON *e = cJSON_AddObjectToObject(j, "energy_source");
    if (e) {
        cJSON_AddStringToObject(e, "name", r->energy_name);
        cJSON_AddStringToObject(e, "label", r->energy_label);
        cJSON_AddStringToObject(e, "detail", r->energy_detail);
        if (r->energy_auto_log[0]) cJSON_AddStringToObject(e, "auto", r->energy_auto_log);
        const el_power_profile *pp = el_energy_profile(p->en);
        if (pp) {
            cJSON *mo = cJSON_AddObjectToObject(e, "model");
            if (mo) {
                cJSON_AddStringToObject(mo, "profile", pp->name);
                add_num(mo, "p_idle_w", pp->p_idle_w);
                add_num(mo, "p_max_w", pp->p_max_w);
                cJSON_AddStringToObject(mo, "source", pp->source);
            }
        }
    }
    cJSON *b = cJSON_AddObjectToObject(j, "baseline");
    if (b) {
        cJSON_AddNumberToObject(b, "samples", r->base.n);
        add_num(b, "duration_s", r->base.duration_s);
        add_num(b, "tree_cores", r->base.tree_cores);
        add_num(b, "tree_cores_sd", r->base.tree_cores_sd);
        add_num(b, "system_cores", r->base.sys_cores);
        add_num(b, "system_cores_sd", r->base.sys_cores_sd);
        add_num(b, "rss_mb", r->base.rss_mb);
        add_num(b, "pss_mb", r->base.pss_mb);
        add_num(b, "system_mem_mb", r->base.sys_mem_mb);
        add_num(b, "power_w", r->base.power_w);
    }
    cJSON *tot = window_json(r, &r->total);
    if (tot) cJSON_AddItemToObject(j, "total", tot);
    cJSON *arr = cJSON_AddArrayToObject(j, "windows");
    for (int k = 0; arr && k < r->n_windows; k++) {
        cJSON *w = window_json(r, &r->windows[k]);
        if (w) cJSON_AddItemToArray(arr, w);
    }
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    if (!text) return el_errf(err, "out of memory printing JSON");
    int rc = 0;
    if (strcmp(path, "-") == 0) {
        fputs(text, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    } else {
        FILE *f = fopen(path, "w");
        if (!f) rc = el_errf(err, "%s: cannot write: %s", path, strerror(errno));
        else {
            fputs(text, f);
            fputc('\n', f);
            if (fclose(f) != 0) rc = el_errf(err, "%s: write failed", path);
        }
    }
    cJSON_free(text);
    return rc;
}

int el_profiler_write_trace_csv(const el_profiler *p, const char *path, el_err *err)
{
    FILE *f = fopen(path, "w");
    if (!f) return el_errf(err, "%s: cannot write: %s", path, strerror(errno));
    char buf[1024];
    trace_header(p, buf, sizeof buf);
    fputs(buf, f);
    long e = 0;
    for (long i = 0; i < p->n; i++) {
        const char *ev = "";
        while (e < p->n_ev && p->ev[e].i < i) e++;
        if (e < p->n_ev && p->ev[e].i == i) ev = p->ev[e].text;
        format_row(&p->s[i], ev, buf, sizeof buf);
        fputs(buf, f);
    }
    if (fclose(f) != 0) return el_errf(err, "%s: write failed", path);
    return 0;
}
