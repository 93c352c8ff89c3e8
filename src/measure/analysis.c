/* analysis.c -- the study's method on a sampled trace: idle baseline,
 * window detection from the CPU signal, trapezoidal AUC per window. */
#include "measure_int.h"
#include "analysis.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

double el_trapezoid(const double *t, const double *y, int i0, int i1, double base)
{
    // AUC = sum (y_i + y_{i+1})/2 * (t_{i+1} - t_i), above base
    double a = 0;
    for (int i = i0; i < i1; i++) a += 0.5 * ((y[i] - base) + (y[i + 1] - base)) * (t[i + 1] - t[i]);
    return a;
}

/* Least-squares line through samples [a, b]; where it crosses `base`.
 * Returns the sign of its slope (0 if flat). */
static int edge_crossing(const double *t, const double *u, int a, int b, double base, double *t_cross)
{
    double n = b - a + 1, st = 0, su = 0, stt = 0, stu = 0;
    for (int i = a; i <= b; i++) {
        st += t[i];
        su += u[i];
        stt += t[i] * t[i];
        stu += t[i] * u[i];
    }
    double var = stt - st * st / n;
    if (!(var > 0)) return 0;
    double g = (stu - st * su / n) / var;  // the gradient of the edge
    if (g == 0 || !isfinite(g)) return 0;
    double c = su / n - g * st / n;
    *t_cross = (base - c) / g;
    return g > 0 ? 1 : -1;
}

int el_detect_windows(const double *t, const double *u, int n, double base, double sd,
                      const el_window_params *wp, el_window_span *out, int max)
{
    if (sd < 0 || !isfinite(sd)) sd = 0;
    double k = wp && wp->k_sigma > 0 ? wp->k_sigma : 5;
    double rise = wp && wp->min_rise > 0 ? wp->min_rise : 0.1;
    double hi = base + fmax(k * sd, rise);             // clearly active
    double lo = base + fmax(2 * sd, 0.5 * rise);       // still active (hysteresis)
    double foot = base + (sd > 0 ? 3 * sd : 1e-9);     // back at idle level
    double tol = 3 * sd;
    int nw = 0;
    int i = 0;
    while (i < n) {
        if (!(u[i] > hi)) {
            i++;
            continue;
        }
        // the burst: maximal run above `lo` around a sample above `hi`
        int s = i, e = i;
        while (s > 0 && u[s - 1] > lo) s--;
        while (e + 1 < n && u[e + 1] > lo) e++;
        // idle level: within noise, or within 10% of the burst's height
        double peak0 = u[s];
        for (int q = s; q <= e; q++) peak0 = fmax(peak0, u[q]);
        double foot_b = fmax(foot, base + 0.1 * (peak0 - base));
        // follow the gradient down each edge to its foot: walk while the
        // neighbour is above idle level and no higher than this sample (+noise)
        s = i;
        while (s > 0 && u[s - 1] > foot_b && u[s - 1] <= u[s] + tol) s--;
        while (e > i && !(u[e] > foot_b)) e--;
        while (e + 1 < n && u[e + 1] > foot_b && u[e + 1] <= u[e] + tol) e++;
        int i0 = s > 0 ? s - 1 : 0;  // the last idle sample before the rise
        int i1 = e;                  // the last active sample before the fall
        // a ramp (>= 3 samples between idle level and half height): fit a line
        // to the edge and take the sample where it meets the baseline
        double peak = u[s];
        for (int q = s; q <= e; q++) peak = fmax(peak, u[q]);
        double half = base + 0.5 * (peak - base);
        int r = s;
        while (r < e && u[r] < half) r++;
        double t_on;
        if (r - s + 1 >= 3 && edge_crossing(t, u, s, r, base, &t_on) > 0) {
            int q = r;
            while (q > 0 && t[q] > t_on) q--;
            i0 = q;
        }
        int f = e;
        while (f > s && u[f] < half) f--;
        double t_off;
        if (e - f + 1 >= 3 && edge_crossing(t, u, f, e, base, &t_off) < 0) {
            int q = f;
            while (q + 1 < n && t[q + 1] <= t_off) q++;
            i1 = q;
        }
        if (nw > 0 && (i0 <= out[nw - 1].i1 ||
                       (wp && wp->merge_s > 0 && t[i0] - t[out[nw - 1].i1] < wp->merge_s))) {
            if (i1 > out[nw - 1].i1) out[nw - 1].i1 = i1;
        } else if (nw < max) {
            out[nw].i0 = i0;
            out[nw].i1 = i1;
            nw++;
        }
        i = (i1 > e ? i1 : e) + 1;
    }
    // drop windows shorter than min_s
    int m = 0;
    for (int w = 0; w < nw; w++)
        if (!(wp && wp->min_s > 0) || t[out[w].i1] - t[out[w].i0] >= wp->min_s) out[m++] = out[w];
    return m;
}

void el_compute_baseline(const el_sample *s, long n, el_baseline *b)
{
    memset(b, 0, sizeof *b);
    long first = -1, last = -1;
    double sum_tc = 0, sum_sc = 0, sum_rss = 0, sum_pss = 0, sum_mem = 0, sq_tc = 0, sq_sc = 0;
    bool pss_ok = true;
    for (long i = 1; i < n && s[i].phase == EL_PHASE_IDLE; i++) {
        if (first < 0) first = i;
        last = i;
        sum_tc += s[i].tree_cores;
        sq_tc += s[i].tree_cores * s[i].tree_cores;
        sum_sc += s[i].sys_cores;
        sq_sc += s[i].sys_cores * s[i].sys_cores;
        sum_rss += s[i].rss_mb;
        sum_mem += s[i].sys_mem_mb;
        if (isnan(s[i].pss_mb)) pss_ok = false;
        else sum_pss += s[i].pss_mb;
        b->n++;
    }
    b->power_w = NAN;
    if (b->n == 0) return;
    double nn = b->n;
    b->duration_s = s[last].t - s[0].t;
    b->tree_cores = sum_tc / nn;
    b->sys_cores = sum_sc / nn;
    b->rss_mb = sum_rss / nn;
    b->pss_mb = pss_ok ? sum_pss / nn : NAN;
    b->sys_mem_mb = sum_mem / nn;
    b->tree_cores_sd = sqrt(fmax(0, sq_tc / nn - b->tree_cores * b->tree_cores));
    b->sys_cores_sd = sqrt(fmax(0, sq_sc / nn - b->sys_cores * b->sys_cores));
    if (s[last].t > s[0].t && !isnan(s[last].energy_j) && !isnan(s[0].energy_j))
        b->power_w = (s[last].energy_j - s[0].energy_j) / (s[last].t - s[0].t);
}

/* trapezoid of one field of the samples [i0, i1] above base */
static double trapz_field(const el_sample *s, int i0, int i1, size_t off, double base)
{
    double a = 0;
    for (int i = i0; i < i1; i++) {
        double y0 = *(const double *)((const char *)&s[i] + off);
        double y1 = *(const double *)((const char *)&s[i + 1] + off);
        a += 0.5 * ((y0 - base) + (y1 - base)) * (s[i + 1].t - s[i].t);
    }
    return a;
}

void el_window_compute(const el_sample *s, long n, int i0, int i1, const el_baseline *b, int n_cpus,
                       double mem_total_mb, el_window_stats *w)
{
    (void)n;
    w->i0 = i0;
    w->i1 = i1;
    w->t0 = s[i0].t;
    w->t1 = s[i1].t;
    w->wall_s = w->t1 - w->t0;
    // CPU of the tree: the cumulative counters give the exact integral of the
    // interval-average utilisation (equal to the trapezoid of the samples when
    // the window is bounded by idle samples)
    w->user_s = s[i1].tree_user_s - s[i0].tree_user_s;
    w->sys_s = s[i1].tree_sys_s - s[i0].tree_sys_s;
    w->cpu_core_s = w->user_s + w->sys_s - b->tree_cores * w->wall_s;
    w->cpu_pct_s = 100.0 * w->cpu_core_s / (n_cpus > 0 ? n_cpus : 1);
    w->cpu_trapz_core_s = trapz_field(s, i0, i1, offsetof(el_sample, tree_cores), b->tree_cores);
    w->sys_cpu_core_s = s[i1].sys_busy_s - s[i0].sys_busy_s - b->sys_cores * w->wall_s;
    w->sys_cpu_pct_s = 100.0 * w->sys_cpu_core_s / (n_cpus > 0 ? n_cpus : 1);
    // RAM: trapezoid of the (instantaneous) readings
    w->peak_rss_mb = 0;
    w->peak_pss_mb = 0;
    bool pss_ok = !isnan(b->pss_mb) || b->n == 0;
    for (int i = i0; i <= i1; i++) {
        if (s[i].rss_mb > w->peak_rss_mb) w->peak_rss_mb = s[i].rss_mb;
        if (isnan(s[i].pss_mb)) pss_ok = false;
        else if (s[i].pss_mb > w->peak_pss_mb) w->peak_pss_mb = s[i].pss_mb;
    }
    w->ram_mb_s = trapz_field(s, i0, i1, offsetof(el_sample, rss_mb), b->rss_mb);
    w->ram_pct_s = mem_total_mb > 0 ? 100.0 * w->ram_mb_s / mem_total_mb : NAN;
    if (pss_ok) {
        w->pss_mb_s = trapz_field(s, i0, i1, offsetof(el_sample, pss_mb), b->n ? b->pss_mb : 0);
    } else {
        w->pss_mb_s = NAN;
        w->peak_pss_mb = NAN;
    }
    w->sys_ram_mb_s = trapz_field(s, i0, i1, offsetof(el_sample, sys_mem_mb), b->sys_mem_mb);
    // energy: difference of the cumulative counter
    w->energy_j = s[i1].energy_j - s[i0].energy_j;
    w->mean_power_w = w->wall_s > 0 ? w->energy_j / w->wall_s : NAN;
    w->energy_above_idle_j = isnan(b->power_w) ? NAN : w->energy_j - b->power_w * w->wall_s;
    w->energy_gap_s = 0;
    w->energy_uncovered_s = 0;
}
