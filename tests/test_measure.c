/* test_measure.c -- the profiler on fake /proc and /sys trees written by the
 * test, sample by sample (manual mode: el_profiler_tick at given times), so
 * every AUC and energy figure can be computed by hand. Also: window detection
 * on synthetic signals, meter logs with gaps, a RAPL counter that wraps, the
 * PMIC parser, the power model, calibration, parsers' error messages and the
 * CLI's usage errors. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "edgelm/measure.h"
#include "measure/measure_int.h"

/* ---- fake trees ------------------------------------------------------------ */

static void mkdirs(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(buf, 0755);
            *p = '/';
        }
    mkdir(buf, 0755);
}

/* write root/rel (creating directories), in place (same inode: open fds see it) */
static void put(const char *root, const char *rel, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put(const char *root, const char *rel, const char *fmt, ...)
{
    char path[4096], dir[4096];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = 0;
    mkdirs(dir);
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) abort();
    va_end(ap);
    assert_int_equal(tu_write_file(path, s, strlen(s)), 0);
    free(s);
}

static char *fresh_root(const char *name)
{
    char *root = tu_tmp(name);
    char *cmd = tu_fmt("rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    mkdirs(root);
    return root;
}

static long ticks_per_s(void) { return sysconf(_SC_CLK_TCK); }
static long page_kb(void) { return sysconf(_SC_PAGESIZE) / 1024; }

/* /proc/stat with 2 cpus: cumulative busy and total ticks */
static void put_stat(const char *root, long busy, long total)
{
    put(root, "proc/stat", "cpu  %ld 0 0 %ld 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\ncpu1 0 0 0 0 0 0 0 0 0 0\nintr 0\n",
        busy, total - busy);
}

static void put_pid(const char *root, int pid, int ppid, long ut, long st, long cut, long cst, double rss_mb,
                    double pss_mb)
{
    char rel[64];
    snprintf(rel, sizeof rel, "proc/%d/stat", pid);
    // comm with a space and a parenthesis, as real programs may have
    put(root, rel, "%d (fake) app) S %d %d %d 0 -1 4194560 10 0 0 0 %ld %ld %ld %ld 20 0 1 0 100 1000000 %ld\n",
        pid, ppid, pid, pid, ut, st, cut, cst, (long)(rss_mb * 1024 / page_kb()));
    snprintf(rel, sizeof rel, "proc/%d/statm", pid);
    put(root, rel, "5000 %ld 100 10 0 400 0\n", (long)(rss_mb * 1024 / page_kb()));
    snprintf(rel, sizeof rel, "proc/%d/smaps_rollup", pid);
    put(root, rel, "00400000-7fff0000 ---p 00000000 00:00 0 [rollup]\nRss: %ld kB\nPss: %ld kB\n",
        (long)(rss_mb * 1024), (long)(pss_mb * 1024));
    snprintf(rel, sizeof rel, "proc/%d/status", pid);
    put(root, rel, "Name:\tfake\nTgid:\t%d\nPid:\t%d\nPPid:\t%d\n", pid, pid, ppid);
}

static void del_pid(const char *root, int pid)
{
    // an exited process: its stat reads empty through fds opened before
    char rel[64];
    snprintf(rel, sizeof rel, "proc/%d/stat", pid);
    put(root, rel, "%s", "");
    char *cmd = tu_fmt("rm -rf '%s/proc/%d'", root, pid);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

/* ---- the main scenario: CPU, RAM, system, RAPL with a wrap ------------------- */

#define RAPL_MAX 10000000LL /* µJ: wraps every 10 J */

static void put_rapl(const char *root, long long true_uj)
{
    put(root, "sys/class/powercap/intel-rapl:0/energy_uj", "%lld\n", true_uj % RAPL_MAX);
}

static void test_fake_tree_auc_and_rapl_wrap(void **state)
{
    (void)state;
    char *root = fresh_root("measure-fake-1");
    long hz = ticks_per_s();
    assert_true(hz == 100);  // the hand-computed numbers below assume USER_HZ = 100
    put(root, "proc/meminfo", "MemTotal:        8192000 kB\nMemFree:  100 kB\nMemAvailable:    6144000 kB\n");
    put(root, "proc/loadavg", "0.00 0.00 0.00 1/10 100\n");
    put(root, "proc/sys/kernel/pid_max", "32768\n");
    // RAPL: package-0 (counted), its core sub-domain, psys and the MMIO mirror (all ignored)
    put(root, "sys/class/powercap/intel-rapl:0/name", "package-0\n");
    put(root, "sys/class/powercap/intel-rapl:0/max_energy_range_uj", "%lld\n", RAPL_MAX);
    put(root, "sys/class/powercap/intel-rapl:0:0/name", "core\n");
    put(root, "sys/class/powercap/intel-rapl:0:0/energy_uj", "5\n");
    put(root, "sys/class/powercap/intel-rapl:1/name", "psys\n");
    put(root, "sys/class/powercap/intel-rapl:1/energy_uj", "7\n");
    put(root, "sys/class/powercap-mmio-ignored/x", "x\n");
    put(root, "sys/class/powercap/intel-rapl-mmio:0/name", "package-0\n");
    put(root, "sys/class/powercap/intel-rapl-mmio:0/energy_uj", "9\n");

    // power per 0.2 s interval (W): idle 2 W; the run 5, 6, 7, 6 W; then 2 W
    const double watts[10] = {0, 2, 2, 2, 5, 6, 7, 6, 2, 2};
    // system busy ticks per interval (2 cpus x 0.2 s x 100 Hz = 40 ticks)
    const long busy[10] = {0, 4, 4, 4, 24, 34, 40, 34, 4, 4};
    long long e_uj = 9000000;  // starts 1 J below the wrap
    long sbusy = 1000, stotal = 5000;
    put_rapl(root, e_uj);
    put_stat(root, sbusy, stotal);
    put_pid(root, 100, 1, 0, 0, 0, 0, 100, 50);

    char *trace = tu_tmp("measure-fake-1.trace.csv");
    el_profiler_config cfg = el_profiler_defaults();
    cfg.hz = 0;  // manual ticks
    cfg.root = root;
    cfg.pid = 100;
    cfg.energy = "rapl";
    cfg.trace_path = trace;
    el_err err;
    el_profiler *p = el_profiler_new(&cfg, &err);
    if (!p) fail_msg("%s", err.msg);
    assert_int_equal(el_profiler_start(p, &err), 0);

    for (int k = 0; k < 10; k++) {
        double t = 0.2 * k;
        if (k > 0) {
            e_uj += (long long)llround(watts[k] * 0.2 * 1e6);
            sbusy += busy[k];
            stotal += 40;
        }
        put_rapl(root, e_uj);
        put_stat(root, sbusy, stotal);
        // the tree: process 100 works from k=4; its child 101 lives k=5..6 and
        // is reaped before k=7 (its 0.4 s move into 100's cutime)
        switch (k) {
        case 4: put_pid(root, 100, 1, 16, 4, 0, 0, 300, 150); break;
        case 5:
            put_pid(root, 100, 1, 32, 8, 0, 0, 300, 150);
            put_pid(root, 101, 100, 10, 0, 0, 0, 50, 25);
            put(root, "proc/loadavg", "0.00 0.00 0.00 1/10 101\n");
            break;
        case 6:
            put_pid(root, 100, 1, 48, 12, 0, 0, 300, 150);
            put_pid(root, 101, 100, 30, 0, 0, 0, 50, 25);
            break;
        case 7:
            del_pid(root, 101);
            put_pid(root, 100, 1, 64, 16, 40, 0, 100, 50);
            break;
        default: break;
        }
        if (k == 3) assert_int_equal(el_profiler_begin(p, "prompt 1", &err), 0);
        if (k == 8) assert_int_equal(el_profiler_end(p, "prompt 1", &err), 0);
        if (el_profiler_tick(p, t, &err) != 0) fail_msg("tick %d: %s", k, err.msg);
    }
    assert_int_equal(el_profiler_stop(p, &err), 0);
    const el_profile_result *r = el_profiler_results(p);
    long n;
    const el_sample *s = el_profiler_samples(p, &n);
    assert_int_equal(n, 10);
    printf("tree cpu (s): ");
    for (int k = 0; k < 10; k++) printf("%.2f ", s[k].tree_user_s + s[k].tree_sys_s);
    printf("\ntree cores:   ");
    for (int k = 0; k < 10; k++) printf("%.2f ", s[k].tree_cores);
    printf("\nenergy (J):   ");
    for (int k = 0; k < 10; k++) printf("%.2f ", s[k].energy_j);
    printf("\n");
    // cumulative tree CPU: 0 0 0 0 0.2 0.5 0.9 1.2 1.2 1.2 (continuous across the reap)
    const double cum[10] = {0, 0, 0, 0, 0.2, 0.5, 0.9, 1.2, 1.2, 1.2};
    for (int k = 0; k < 10; k++) assert_true(fabs(s[k].tree_user_s + s[k].tree_sys_s - cum[k]) < 1e-9);
    assert_int_equal(s[5].n_procs, 2);
    assert_int_equal(s[7].n_procs, 1);
    // the baseline: idle samples 1 and 2 (sample 3 opens the window, run phase)
    assert_int_equal(r->base.n, 2);
    assert_true(fabs(r->base.rss_mb - 100) < 1e-6);
    assert_true(fabs(r->base.sys_cores - 0.2) < 1e-9);
    assert_true(fabs(r->base.power_w - 2.0) < 1e-9);
    assert_true(fabs(r->mem_total_mb - 8000) < 1e-9);
    // the marker window: samples 3..8, 0.6 s .. 1.6 s
    assert_true(r->n_windows >= 1);
    const el_window_stats *w = &r->windows[0];
    printf("window '%s' [%d,%d]: cpu %.4f core*s (trapz %.4f), user %.3f sys %.3f, ram %.4f MB*s, pss %.4f, "
           "sys cpu %.4f core*s, energy %.4f J (above idle %.4f)\n",
           w->name, w->i0, w->i1, w->cpu_core_s, w->cpu_trapz_core_s, w->user_s, w->sys_s, w->ram_mb_s, w->pss_mb_s,
           w->sys_cpu_core_s, w->energy_j, w->energy_above_idle_j);
    assert_string_equal(w->name, "prompt 1");
    assert_int_equal(w->source, EL_WIN_MARKER);
    assert_int_equal(w->i0, 3);
    assert_int_equal(w->i1, 8);
    assert_true(fabs(w->wall_s - 1.0) < 1e-9);
    assert_true(fabs(w->cpu_core_s - 1.2) < 1e-9);
    assert_true(fabs(w->cpu_trapz_core_s - 1.2) < 1e-9);  // 0.1+0.25+0.35+0.35+0.15
    assert_true(fabs(w->cpu_pct_s - 60.0) < 1e-6);
    assert_true(fabs(w->user_s - 1.04) < 1e-9);
    assert_true(fabs(w->sys_s - 0.16) < 1e-9);
    // RSS above 100 MB: 0 200 250 250 0 0 -> 20 + 45 + 50 + 25 + 0 = 140 MB*s
    assert_true(fabs(w->ram_mb_s - 140) < 1e-6);
    assert_true(fabs(w->ram_pct_s - 1.75) < 1e-6);
    assert_true(fabs(w->pss_mb_s - 70) < 1e-6);
    assert_true(fabs(w->peak_rss_mb - 350) < 1e-6);
    // system: busy 24+34+40+34+4 = 136 ticks = 1.36 core*s, minus 0.2 cores x 1 s
    assert_true(fabs(w->sys_cpu_core_s - 1.16) < 1e-9);
    // energy through a wrap of the RAPL counter: (5+6+7+6+2) W x 0.2 s = 5.2 J
    assert_true(fabs(w->energy_j - 5.2) < 1e-9);
    assert_true(fabs(w->energy_above_idle_j - 3.2) < 1e-9);
    assert_string_equal(r->energy_label, "measured");
    assert_non_null(strstr(r->energy_detail, "intel-rapl:0(package-0)"));
    assert_null(strstr(r->energy_detail, "core"));
    assert_null(strstr(r->energy_detail, "psys"));
    assert_null(strstr(r->energy_detail, "mmio"));
    // the total (run phase, samples 3..9): same CPU, one more idle interval of energy
    assert_true(fabs(r->total.cpu_core_s - 1.2) < 1e-9);
    assert_true(fabs(r->total.energy_j - 5.6) < 1e-9);

    // JSON round trip
    char *json = tu_tmp("measure-fake-1.json");
    assert_int_equal(el_profiler_write_json(p, json, NULL, &err), 0);
    char *text = tu_read_file(json, NULL);
    cJSON *j = cJSON_Parse(text);
    assert_non_null(j);
    cJSON *win = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "windows"), 0);
    double jcpu = cJSON_GetObjectItem(cJSON_GetObjectItem(win, "cpu"), "auc_core_s")->valuedouble;
    double jram = cJSON_GetObjectItem(cJSON_GetObjectItem(win, "ram"), "auc_mb_s")->valuedouble;
    double jen = cJSON_GetObjectItem(cJSON_GetObjectItem(win, "energy"), "joules")->valuedouble;
    printf("json: cpu %.4f ram %.4f energy %.4f complete %d\n", jcpu, jram, jen,
           cJSON_IsTrue(cJSON_GetObjectItem(j, "complete")));
    assert_true(fabs(jcpu - 1.2) < 1e-9 && fabs(jram - 140) < 1e-6 && fabs(jen - 5.2) < 1e-9);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "complete")));
    cJSON_Delete(j);
    free(text);

    // the trace written while sampling: header comment, columns, 10 rows, the events
    size_t len;
    text = tu_read_file(trace, &len);
    assert_non_null(text);
    int lines = 0;
    for (char *c = text; *c; c++) lines += *c == '\n';
    assert_int_equal(lines, 12);
    assert_non_null(strstr(text, "begin:prompt 1"));
    assert_non_null(strstr(text, "end:prompt 1"));
    el_trace tr;
    if (el_trace_parse(text, len, trace, &tr, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(tr.n, 10);
    assert_int_equal(tr.n_cpus, 2);
    assert_true(fabs(tr.sys_busy_s[9] - 1.52) < 1e-6);  // (3*4 + 136 + 4) ticks
    el_trace_free(&tr);
    free(text);
    el_profiler_free(p);
    free(json);
    free(trace);
    free(root);
}

/* rapl+dram adds DRAM domains; a missing powercap gives a clear error */
static void test_rapl_dram_and_errors(void **state)
{
    (void)state;
    char *root = fresh_root("measure-fake-2");
    el_err err;
    el_energy *e = el_energy_open("rapl", root, 2, &err);
    assert_null(e);
    printf("no powercap: %s\n", err.msg);
    assert_non_null(strstr(err.msg, "powercap"));
    put(root, "sys/class/powercap/intel-rapl:0/name", "package-0\n");
    put(root, "sys/class/powercap/intel-rapl:0/energy_uj", "1000000\n");
    put(root, "sys/class/powercap/intel-rapl:0:2/name", "dram\n");
    put(root, "sys/class/powercap/intel-rapl:0:2/energy_uj", "500000\n");
    put(root, "sys/class/powercap/intel-rapl:1/name", "package-1\n");
    put(root, "sys/class/powercap/intel-rapl:1/energy_uj", "0\n");
    e = el_energy_open("rapl+dram", root, 2, &err);
    if (!e) fail_msg("%s", err.msg);
    printf("rapl+dram: %s\n", el_energy_detail(e));
    assert_non_null(strstr(el_energy_detail(e), "dram"));
    assert_non_null(strstr(el_energy_detail(e), "package-1"));
    double j;
    assert_int_equal(el_energy_read(e, 0, 0, &j, &err), 0);
    assert_true(fabs(j) < 1e-12);
    put(root, "sys/class/powercap/intel-rapl:0/energy_uj", "3000000\n");   // +2 J
    put(root, "sys/class/powercap/intel-rapl:0:2/energy_uj", "1500000\n"); // +1 J
    put(root, "sys/class/powercap/intel-rapl:1/energy_uj", "250000\n");    // +0.25 J
    assert_int_equal(el_energy_read(e, 1, 0, &j, &err), 0);
    printf("rapl+dram energy after 1 s: %.4f J (expect 3.25)\n", j);
    assert_true(fabs(j - 3.25) < 1e-9);
    el_energy_close(e);
    // without +dram the DRAM domain is not counted
    e = el_energy_open("rapl", root, 2, &err);
    assert_non_null(e);
    assert_null(strstr(el_energy_detail(e), "dram"));
    el_energy_close(e);
    // perf: no power PMU in the fake tree
    assert_null(el_energy_open("perf", root, 2, &err));
    printf("perf: %s\n", err.msg);
    assert_null(el_energy_open("bogus", root, 2, &err));
    printf("bogus: %s\n", err.msg);
    free(root);
}

/* hwmon power inputs (trapezoid), energy inputs (counter), and the PMIC */
static void test_hwmon_and_pmic(void **state)
{
    (void)state;
    char *root = fresh_root("measure-fake-3");
    el_err err;
    put(root, "sys/class/hwmon/hwmon0/name", "amdgpu\n");  // a GPU: skipped by auto
    put(root, "sys/class/hwmon/hwmon0/power1_average", "50000000\n");
    put(root, "sys/class/hwmon/hwmon1/name", "ina219\n");
    put(root, "sys/class/hwmon/hwmon1/power1_input", "4000000\n");  // 4 W
    el_energy *e = el_energy_open("auto", root, 2, &err);
    if (!e) fail_msg("%s", err.msg);
    printf("auto on a hwmon tree: %s: %s | %s\n", el_energy_name(e), el_energy_detail(e), el_energy_auto_log(e));
    assert_string_equal(el_energy_name(e), "hwmon");
    assert_non_null(strstr(el_energy_detail(e), "ina219"));
    double j;
    assert_int_equal(el_energy_read(e, 0.0, 0, &j, &err), 0);
    put(root, "sys/class/hwmon/hwmon1/power1_input", "6000000\n");  // 6 W
    assert_int_equal(el_energy_read(e, 1.0, 0, &j, &err), 0);
    put(root, "sys/class/hwmon/hwmon1/power1_input", "6000000\n");
    assert_int_equal(el_energy_read(e, 1.5, 0, &j, &err), 0);
    printf("hwmon: %.4f J (expect (4+6)/2*1 + 6*0.5 = 8)\n", j);
    assert_true(fabs(j - 8.0) < 1e-9);
    el_energy_close(e);
    // amd_energy: socket counters only (the core counters would double count)
    put(root, "sys/class/hwmon/hwmon2/name", "amd_energy\n");
    put(root, "sys/class/hwmon/hwmon2/energy1_label", "Ecore000\n");
    put(root, "sys/class/hwmon/hwmon2/energy1_input", "1000000\n");
    put(root, "sys/class/hwmon/hwmon2/energy2_label", "Esocket0\n");
    put(root, "sys/class/hwmon/hwmon2/energy2_input", "1000000\n");
    e = el_energy_open("hwmon:amd_energy", root, 2, &err);
    if (!e) fail_msg("%s", err.msg);
    printf("amd_energy: %s\n", el_energy_detail(e));
    assert_int_equal(el_energy_read(e, 0.0, 0, &j, &err), 0);
    put(root, "sys/class/hwmon/hwmon2/energy1_input", "9000000\n");
    put(root, "sys/class/hwmon/hwmon2/energy2_input", "3500000\n");
    assert_int_equal(el_energy_read(e, 1.0, 0, &j, &err), 0);
    printf("amd_energy socket: %.4f J (expect 2.5)\n", j);
    assert_true(fabs(j - 2.5) < 1e-9);
    el_energy_close(e);

    // PMIC parser: current firmware's format, with an input-voltage-only rail
    const char *adc = "     3V7_WL_SW_A current(0)=0.10000000A\n"
                      "       3V3_SYS_A current(1)=0.20000000A\n"
                      "     VDD_CORE_A current(7)=2.00000000A\n"
                      "     3V7_WL_SW_V volt(8)=3.70000000V\n"
                      "       3V3_SYS_V volt(9)=3.30000000V\n"
                      "     VDD_CORE_V volt(15)=0.80000000V\n"
                      "        EXT5V_V volt(24)=5.10000000V\n";
    double w;
    int nr;
    assert_int_equal(el_parse_pmic(adc, &w, &nr), 0);
    printf("pmic: %d rails, %.6f W (expect 0.37+0.66+1.6 = 2.63)\n", nr, w);
    assert_int_equal(nr, 3);
    assert_true(fabs(w - 2.63) < 1e-9);
    assert_int_equal(el_parse_pmic("VDD_CORE_A=1.5A\nVDD_CORE_V=0.8V\n", &w, &nr), 0);
    assert_true(fabs(w - 1.2) < 1e-9);
    assert_int_equal(el_parse_pmic("garbage\n=\n_A=\n", &w, &nr), -1);
    // the PMIC source on a fake Pi 5: a recorded vcgencmd
    char *pi = fresh_root("measure-fake-pi5");
    put(pi, "proc/device-tree/model", "Raspberry Pi 5 Model B Rev 1.0");
    put(pi, "usr/bin/vcgencmd", "#!/bin/sh\ncat <<'EOF'\n%sEOF\n", adc);
    char *vc = tu_fmt("%s/usr/bin/vcgencmd", pi);
    chmod(vc, 0755);
    e = el_energy_open("pmic", pi, 100, &err);
    if (!e) fail_msg("%s", err.msg);
    assert_string_equal(el_energy_label(e), "measured");
    assert_int_equal(el_energy_read(e, 0.0, 0, &j, &err), 0);
    assert_int_equal(el_energy_read(e, 2.0, 0, &j, &err), 0);
    printf("pmic source over 2 s: %.4f J (expect 5.26)\n", j);
    assert_true(fabs(j - 5.26) < 1e-9);
    el_energy_close(e);
    e = el_energy_open("pmic:wall", pi, 100, &err);
    assert_non_null(e);
    assert_string_equal(el_energy_label(e), "estimated");
    assert_int_equal(el_energy_read(e, 0.0, 0, &j, &err), 0);
    assert_int_equal(el_energy_read(e, 1.0, 0, &j, &err), 0);
    printf("pmic:wall over 1 s: %.4f J (expect 1.1451*2.63+0.5879)\n", j);
    assert_true(fabs(j - (1.1451 * 2.63 + 0.5879)) < 1e-9);
    el_energy_close(e);
    // auto on the Pi with no powercap/hwmon: the PMIC
    e = el_energy_open("auto", pi, 2, &err);
    assert_non_null(e);
    assert_string_equal(el_energy_name(e), "pmic");
    el_energy_close(e);
    // not a Pi 5
    assert_null(el_energy_open("pmic", root, 2, &err));
    printf("pmic elsewhere: %s\n", err.msg);
    free(vc);
    free(pi);
    free(root);
}

/* the power model, exact in manual mode: P = idle + (max-idle) * u */
static void test_power_model(void **state)
{
    (void)state;
    char *root = fresh_root("measure-fake-4");
    put(root, "proc/meminfo", "MemTotal: 1024000 kB\nMemAvailable: 512000 kB\n");
    put(root, "proc/loadavg", "0 0 0 1/1 5\n");
    long busy = 0, total = 0;
    put_stat(root, busy, total);
    el_profiler_config cfg = el_profiler_defaults();
    cfg.hz = 0;
    cfg.root = root;
    cfg.pid = -1;
    cfg.energy = "model:idle=2,max=10";
    el_err err;
    el_profiler *p = el_profiler_new(&cfg, &err);
    if (!p) fail_msg("%s", err.msg);
    assert_int_equal(el_profiler_start(p, &err), 0);
    // u per 1 s interval: 0, 0.5, 1.0, 0.25 -> P = 2, 6, 10, 4 W
    const double u[4] = {0, 0.5, 1.0, 0.25};
    for (int k = 0; k < 5; k++) {
        if (k > 0) {
            busy += (long)(u[k - 1] * 200);
            total += 200;  // 2 cpus x 1 s x 100 ticks
        }
        put_stat(root, busy, total);
        if (k == 1) assert_int_equal(el_profiler_run(p, &err), 0);
        assert_int_equal(el_profiler_tick(p, (double)k, &err), 0);
    }
    assert_int_equal(el_profiler_stop(p, &err), 0);
    const el_profile_result *r = el_profiler_results(p);
    printf("model: run energy %.4f J (expect 6+10+4 = 20), label %s, %s\n", r->total.energy_j, r->energy_label,
           r->energy_name);
    assert_true(fabs(r->total.energy_j - 20.0) < 1e-9);
    assert_string_equal(r->energy_label, "estimated");
    assert_string_equal(r->energy_name, "model:custom");
    el_profiler_free(p);
    // profiles by name
    el_power_profile pp;
    assert_int_equal(el_power_profile_get("rpi5", &pp, &err), 0);
    printf("rpi5: %.2f..%.2f W: %s\n", pp.p_idle_w, pp.p_max_w, pp.source);
    assert_int_equal(el_power_profile_get("x86:TDP=28", &pp, &err), 0);
    assert_true(fabs(pp.p_max_w - 28) < 1e-12 && fabs(pp.p_idle_w - 4.2) < 1e-12);
    assert_int_equal(el_power_profile_get("x86:TDP=65,idle=10", &pp, &err), 0);
    assert_true(fabs(pp.p_idle_w - 10) < 1e-12);
    assert_int_equal(el_power_profile_get("x86:TDP=abc", &pp, &err), -1);
    printf("bad TDP: %s\n", err.msg);
    assert_int_equal(el_power_profile_get("x86:TDP=10,idle=20", &pp, &err), -1);
    assert_int_equal(el_power_profile_get("idle=5,max=3", &pp, &err), -1);
    assert_int_equal(el_power_profile_get("nosuchprofile", &pp, &err), -1);
    printf("unknown: %s\n", err.msg);
    // JSON profiles
    const char *ok = "{\"schema\":\"edgelm-power-profile/1\",\"name\":\"mypi\",\"p_idle_w\":2.5,\"p_max_w\":8}";
    assert_int_equal(el_power_profile_parse(ok, strlen(ok), "p.json", &pp, &err), 0);
    assert_string_equal(pp.name, "mypi");
    const char *bad[] = {"[]", "{\"p_idle_w\":1}", "{\"p_idle_w\":\"1\",\"p_max_w\":2}",
                         "{\"p_idle_w\":3,\"p_max_w\":2}", "{\"p_idle_w\":1,\"p_max_w\":2,\"name\":5}", "{"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(el_power_profile_parse(bad[i], strlen(bad[i]), "p.json", &pp, &err), -1);
        printf("profile error: %s\n", err.msg);
    }
    free(root);
}

/* ---- meter logs ------------------------------------------------------------ */

static void test_meterlog_gaps(void **state)
{
    (void)state;
    // volts and amps, with a 4 s gap between 1002 and 1006
    const char *csv = "# USB-C meter export\n"
                      "timestamp,volts,amps\n"
                      "1000,5.0,1.0\n"
                      "1001,5.0,1.2\n"
                      "1002,5.0,0.8\n"
                      "1006,5.0,0.8\n"
                      "1007,5.0,1.6\n";
    el_meterlog m;
    el_err err;
    if (el_meterlog_parse(csv, strlen(csv), "m.csv", &m, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(m.n, 5);
    assert_true(fabs(m.median_dt - 1.0) < 1e-12);
    double gap, unc;
    double e = el_meterlog_energy(&m, 1000.5, 1006.5, 2.5, &gap, &unc);
    // 2.875 + 5 + 16 (across the gap, linear) + 2.5 = 26.375 J
    printf("meter energy [1000.5, 1006.5]: %.6f J (expect 26.375), gap %.3f s (expect 4), uncovered %.3f\n", e, gap,
           unc);
    assert_true(fabs(e - 26.375) < 1e-9);
    assert_true(fabs(gap - 4.0) < 1e-9);
    assert_true(fabs(unc) < 1e-12);
    e = el_meterlog_energy(&m, 999.0, 1001.0, 2.5, &gap, &unc);
    printf("meter energy [999, 1001]: %.6f J (expect 5.5), uncovered %.3f s (expect 1)\n", e, unc);
    assert_true(fabs(e - 5.5) < 1e-9 && fabs(unc - 1.0) < 1e-12 && gap == 0);
    el_meterlog_free(&m);

    // other shapes: headerless t,W; semicolons; ISO times; milliseconds
    const char *two = "1000,5\n1001,7\n";
    assert_int_equal(el_meterlog_parse(two, strlen(two), "two.csv", &m, &err), 0);
    assert_true(fabs(el_meterlog_energy(&m, 1000, 1001, 0, NULL, NULL) - 6.0) < 1e-12);
    el_meterlog_free(&m);
    const char *iso = "time;power (W)\n2025-01-01T00:00:00Z;4\n2025-01-01T00:00:02.5Z;6\n";
    assert_int_equal(el_meterlog_parse(iso, strlen(iso), "iso.csv", &m, &err), 0);
    printf("iso: t0 %.1f, dt %.2f\n", m.t[0], m.t[1] - m.t[0]);
    assert_true(fabs(m.t[0] - 1735689600.0) < 1e-6 && fabs(m.t[1] - m.t[0] - 2.5) < 1e-9);
    el_meterlog_free(&m);
    const char *ms = "t_ms,W\n1700000000000,1\n1700000000500,3\n";
    assert_int_equal(el_meterlog_parse(ms, strlen(ms), "ms.csv", &m, &err), 0);
    assert_true(fabs(m.t[1] - m.t[0] - 0.5) < 1e-6);
    el_meterlog_free(&m);

    // errors name the line and the problem
    const char *bad[] = {
        "time,watts\n1,2\n2,x\n",
        "time,watts\n2,1\n1,1\n",
        "a,b,c,d\n1,2,3,4\n",
        "1,2,3,4\n",
        "time,watts\n1,2\n",
        "watts,volts\n1,2\n",
        "time,watts\n1,-5\n2,3\n",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(el_meterlog_parse(bad[i], strlen(bad[i]), "bad.csv", &m, &err), -1);
        printf("meter error: %s\n", err.msg);
        assert_non_null(strstr(err.msg, "bad.csv"));
    }
}

/* the profiler with a meter log: energy filled after the run, aligned by time */
static void test_profiler_meter_alignment(void **state)
{
    (void)state;
    char *root = fresh_root("measure-fake-5");
    put(root, "proc/meminfo", "MemTotal: 1024000 kB\nMemAvailable: 512000 kB\n");
    put(root, "proc/loadavg", "0 0 0 1/1 5\n");
    put_stat(root, 0, 0);
    char *meter = tu_tmp("measure-fake-5.meter.csv");
    assert_int_equal(tu_write_file(meter, "t,w\n0,0\n1,0\n", 12), 0);
    el_profiler_config cfg = el_profiler_defaults();
    cfg.hz = 0;
    cfg.root = root;
    cfg.pid = -1;
    char *spec = tu_fmt("meter:%s", meter);
    cfg.energy = spec;
    el_err err;
    el_profiler *p = el_profiler_new(&cfg, &err);
    if (!p) fail_msg("%s", err.msg);
    assert_int_equal(el_profiler_start(p, &err), 0);
    for (int k = 0; k <= 6; k++) {
        if (k == 2) assert_int_equal(el_profiler_begin(p, "w", &err), 0);
        if (k == 5) assert_int_equal(el_profiler_end(p, "w", &err), 0);
        assert_int_equal(el_profiler_tick(p, (double)k, &err), 0);
    }
    // now write the meter log, in unix time, 1 Hz with the reading at +3.5 s missing
    long n;
    const el_sample *s = el_profiler_samples(p, &n);
    double u0 = s[0].unix_s;
    char *log = tu_fmt("unix,watts\n%.6f,2\n%.6f,2\n%.6f,2\n%.6f,4\n%.6f,6\n%.6f,2\n", u0 - 0.5, u0 + 0.5,
                       u0 + 1.5, u0 + 2.5, u0 + 5.5, u0 + 6.5);
    assert_int_equal(tu_write_file(meter, log, strlen(log)), 0);
    assert_int_equal(el_profiler_stop(p, &err), 0);
    const el_profile_result *r = el_profiler_results(p);
    const el_window_stats *w = &r->windows[0];
    // window [2, 5] s, power linear between readings: 2..2.5 s: 3->4 W (1.75 J);
    // 2.5..5 s inside the 3 s gap 2.5->5.5 (4->6 W): 4 -> 5.6667 W (12.0833 J)
    double expect = 1.75 + 0.5 * (4 + (4 + 2.5 * 2.0 / 3.0)) * 2.5;
    printf("meter window: %.6f J (expect %.6f), gap %.3f s (expect 2.5), baseline %.3f W (expect 2)\n", w->energy_j,
           expect, w->energy_gap_s, r->base.power_w);
    // (timestamps written with 1 us resolution at ~1.8e9 s: compare to 1e-4)
    assert_true(fabs(w->energy_j - expect) < 1e-4);
    assert_true(fabs(w->energy_gap_s - 2.5) < 1e-4);
    assert_true(fabs(r->base.power_w - 2.0) < 1e-4);
    assert_true(fabs(w->energy_above_idle_j - (expect - 6.0)) < 1e-4);
    assert_string_equal(r->energy_label, "measured");
    el_profiler_free(p);
    free(log);
    free(spec);
    free(meter);
    free(root);
}

/* ---- window detection on synthetic signals ------------------------------------ */

static double lcg(unsigned long long *st)
{
    *st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*st >> 11) / 9007199254740992.0;
}

static double gauss(unsigned long long *st)
{
    double a = lcg(st), b = lcg(st);
    if (a < 1e-300) a = 1e-300;
    return sqrt(-2 * log(a)) * cos(6.283185307179586 * b);
}

/* shape 0: step; 1: ramp up 1 s, plateau, ramp down 0.5 s; level 1.0 over base */
static double signal_at(int shape, double t, double on, double off)
{
    if (t < on || t > off) return 0;
    if (shape == 0) return 1.0;
    double up = (t - on) / 1.0, down = (off - t) / 0.5;
    double v = up < down ? up : down;
    return v > 1 ? 1 : v;
}

static void test_window_detection(void **state)
{
    (void)state;
    const double hzs[3] = {5, 20, 100};
    int checked = 0;
    double worst = 0;
    for (int h = 0; h < 3; h++)
        for (int shape = 0; shape < 2; shape++)
            for (int noisy = 0; noisy < 2; noisy++) {
                double hz = hzs[h], dt = 1.0 / hz, base = 0.2, sd = noisy ? 0.02 : 0;
                int n = (int)(12 * hz);
                double *t = malloc((size_t)n * sizeof *t), *u = malloc((size_t)n * sizeof *u);
                unsigned long long st = 42 + (unsigned long long)(h * 4 + shape * 2 + noisy);
                // two bursts: [2.03, 4.51] and [7.27, 9.88] (off the sample grid)
                const double on[2] = {2.03, 7.27}, off[2] = {4.51, 9.88};
                for (int i = 0; i < n; i++) {
                    t[i] = i * dt;
                    u[i] = base + signal_at(shape, t[i], on[0], off[0]) + signal_at(shape, t[i], on[1], off[1]) +
                           sd * gauss(&st);
                }
                // the idle sd the profiler would measure: from the first 1.5 s
                double m = 0, q = 0;
                int ni = (int)(1.5 * hz);
                for (int i = 0; i < ni; i++) {
                    m += u[i];
                    q += u[i] * u[i];
                }
                m /= ni;
                double est_sd = sqrt(fmax(0, q / ni - m * m));
                el_window_params wp = {5, 0.1, 0, 0};
                el_window_span sp[8];
                int nw = el_detect_windows(t, u, n, m, est_sd, &wp, sp, 8);
                printf("hz %5.0f %-5s %-5s: %d windows", hz, shape ? "ramp" : "step", noisy ? "noisy" : "clean", nw);
                assert_int_equal(nw, 2);
                for (int w = 0; w < 2; w++) {
                    double e0 = t[sp[w].i0] - on[w], e1 = t[sp[w].i1] - off[w];
                    printf("  [%.3f, %.3f] (true [%.2f, %.2f])", t[sp[w].i0], t[sp[w].i1], on[w], off[w]);
                    assert_true(fabs(e0) <= dt + 1e-9);
                    assert_true(fabs(e1) <= dt + 1e-9);
                    worst = fmax(worst, fmax(fabs(e0), fabs(e1)) / dt);
                    checked++;
                }
                printf("\n");
                free(t);
                free(u);
            }
    printf("window detection: %d windows, worst edge error %.2f sample periods\n", checked, worst);
    // a flat, noisy signal has no window
    double t[100], u[100];
    unsigned long long st = 7;
    for (int i = 0; i < 100; i++) {
        t[i] = i * 0.2;
        u[i] = 0.3 + 0.01 * gauss(&st);
    }
    el_window_params wp = {5, 0.1, 0, 0};
    el_window_span sp[4];
    assert_int_equal(el_detect_windows(t, u, 100, 0.3, 0.01, &wp, sp, 4), 0);
    // merge_s joins two bursts separated by a short gap
    for (int i = 0; i < 100; i++) u[i] = (i >= 10 && i < 20) || (i >= 22 && i < 30) ? 1.0 : 0.0;
    assert_int_equal(el_detect_windows(t, u, 100, 0, 0, &wp, sp, 4), 2);
    wp.merge_s = 1.0;
    assert_int_equal(el_detect_windows(t, u, 100, 0, 0, &wp, sp, 4), 1);
    // the trapezoid itself: a triangle of height 2 over 4 s = 4
    double tt[5] = {0, 1, 2, 3, 4}, yy[5] = {0, 1, 2, 1, 0};
    assert_true(fabs(el_trapezoid(tt, yy, 0, 4, 0) - 4.0) < 1e-12);
    assert_true(fabs(el_trapezoid(tt, yy, 0, 4, 0.5) - 2.0) < 1e-12);
}

/* ---- calibration ------------------------------------------------------------ */

static void test_calibration_fit(void **state)
{
    (void)state;
    // a trace at 5 Hz over 60 s with utilisation changing every 5 s; a meter at
    // 1 Hz reading P = 3 + 4 u (+ small noise) -> P_idle 3, P_max 7
    const double levels[12] = {0, 0.5, 1, 0.25, 0.75, 0, 1, 0.1, 0.9, 0.4, 0.6, 0};
    char *trace = tu_tmp("measure-cal.trace.csv");
    char *meter = tu_tmp("measure-cal.meter.csv");
    FILE *ft = fopen(trace, "w"), *fm = fopen(meter, "w");
    assert_non_null(ft);
    assert_non_null(fm);
    fprintf(ft, "# edgelm trace v1 hz=5 n_cpus=4 mem_total_mb=8000\nt_s,unix_s,phase,sys_busy_core_s,sys_cores,event\n");
    double t0 = 1700000000.0, busy = 0;
    for (int i = 0; i <= 300; i++) {
        double t = i * 0.2;
        int seg = (int)((t - 0.1) / 5);  // the level of the interval (t - 0.2, t]
        double u = levels[seg < 0 ? 0 : seg < 12 ? seg : 11];
        if (i > 0) busy += u * 4 * 0.2;
        fprintf(ft, "%.3f,%.6f,run,%.6f,%.4f,\n", t, t0 + t, busy, u * 4);
    }
    fprintf(fm, "time,watts\n");
    unsigned long long st = 99;
    for (int i = 0; i < 60; i++) {
        // the meter reads the instantaneous power half-way between level changes
        double t = i + 0.5;
        int seg = (int)(t / 5);
        double u = levels[seg < 12 ? seg : 11];
        fprintf(fm, "%.3f,%.6f\n", t0 + t, 3 + 4 * u + 0.02 * gauss(&st));
    }
    fclose(ft);
    fclose(fm);
    el_meterlog m;
    el_trace tr;
    el_err err;
    assert_int_equal(el_meterlog_load(meter, &m, &err), 0);
    if (el_trace_load(trace, &tr, &err) != 0) fail_msg("%s", err.msg);
    el_power_fit fit;
    if (el_power_fit_meter(&m, &tr, 0, &fit, &err) != 0) fail_msg("%s", err.msg);
    printf("fit: n %ld, P_idle %.4f W (3), P_max %.4f W (7), RMSE %.4f W, R2 %.5f, u %.2f..%.2f\n", fit.n,
           fit.p_idle_w, fit.p_max_w, fit.rmse_w, fit.r2, fit.u_min, fit.u_max);
    assert_int_equal(fit.n, 59);
    assert_true(fabs(fit.p_idle_w - 3) < 0.05 && fabs(fit.p_max_w - 7) < 0.05);
    assert_true(fit.rmse_w < 0.05 && fit.r2 > 0.99);
    el_meterlog_free(&m);

    // the CLI: fit, write a profile, use it as an energy model
    char *prof = tu_tmp("measure-cal.profile.json");
    char *cmd = tu_fmt("%s calibrate --meter '%s' --trace '%s' --profile-out '%s' --name bench", EL_BIN, meter,
                       trace, prof);
    char *out = NULL, *er = NULL;
    int rc = tu_run(cmd, &out, &er);
    printf("calibrate: rc %d\n%s%s", rc, out, er);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "P_idle"));
    el_power_profile pp;
    char *spec = tu_fmt("%s", prof);
    assert_int_equal(el_power_profile_get(spec, &pp, &err), 0);
    assert_true(fabs(pp.p_idle_w - fit.p_idle_w) < 1e-3 && fabs(pp.p_max_w - fit.p_max_w) < 1e-3);
    assert_string_equal(pp.name, "bench");
    free(out);
    free(er);
    free(cmd);
    // a constant utilisation cannot be fitted
    for (long i = 0; i < tr.n; i++) tr.sys_busy_s[i] = 0.5 * 4 * (tr.unix_s[i] - t0);
    assert_int_equal(el_meterlog_load(meter, &m, &err), 0);
    assert_int_equal(el_power_fit_meter(&m, &tr, 0, &fit, &err), -1);
    printf("constant u: %s\n", err.msg);
    // a trace from another time
    for (long i = 0; i < tr.n; i++) tr.unix_s[i] += 1e6;
    assert_int_equal(el_power_fit_meter(&m, &tr, 0, &fit, &err), -1);
    printf("no overlap: %s\n", err.msg);
    el_meterlog_free(&m);
    el_trace_free(&tr);
    // trace parser errors
    const char *bad[] = {"x,y\n1,2\n", "# n_cpus=2\nunix_s,sys_busy_core_s,sys_cores\n1,a,3\n2,3,4\n",
                         "unix_s,sys_busy_core_s,sys_cores\n1,2,3\n2,3,4\n",
                         "# n_cpus=2\nunix_s,sys_busy_core_s,sys_cores\n2,2,3\n1,3,4\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(el_trace_parse(bad[i], strlen(bad[i]), "t.csv", &tr, &err), -1);
        printf("trace error: %s\n", err.msg);
    }
    free(spec);
    free(prof);
    free(trace);
    free(meter);
}

/* ---- CLI usage ---------------------------------------------------------------- */

static void test_cli_usage(void **state)
{
    (void)state;
    struct {
        const char *args;
        int rc;
        const char *msg;
    } cases[] = {
        {"profile --help", 0, "usage: edgelm profile"},
        {"calibrate --help", 0, "usage: edgelm calibrate"},
        {"profile --bogus -- true", 2, "unknown option '--bogus'"},
        {"profile --hz 0 -- true", 2, "--hz"},
        {"profile --hz", 2, "needs a value"},
        {"profile --idle -1 -- true", 2, "--idle"},
        {"profile", 2, "command"},
        {"profile --energy nonsense --idle 0 -- true", 1, "energy source 'nonsense'"},
        {"profile --energy rapl --idle 0 -- true", 1, "powercap"},
        {"calibrate --meter /nonexistent.csv --trace /nonexistent.csv", 1, "/nonexistent.csv"},
        {"calibrate --trace x.csv", 2, "--meter"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *cmd = tu_fmt("cd '%s' && %s %s", EL_TEST_TMP, EL_BIN, cases[i].args);
        char *out = NULL, *err = NULL;
        int rc = tu_run(cmd, &out, &err);
        printf("edgelm %-45s -> %d %s", cases[i].args, rc, rc == 0 ? "\n" : err);
        assert_int_equal(rc, cases[i].rc);
        assert_non_null(strstr(rc == 0 ? out : err, cases[i].msg));
        free(cmd);
        free(out);
        free(err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fake_tree_auc_and_rapl_wrap),
        cmocka_unit_test(test_rapl_dram_and_errors),
        cmocka_unit_test(test_hwmon_and_pmic),
        cmocka_unit_test(test_power_model),
        cmocka_unit_test(test_meterlog_gaps),
        cmocka_unit_test(test_profiler_meter_alignment),
        cmocka_unit_test(test_window_detection),
        cmocka_unit_test(test_calibration_fit),
        cmocka_unit_test(test_cli_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
