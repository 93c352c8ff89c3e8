/* test_measure_real.c -- the profiler on real processes: a child that spins
 * one core for 2 s of CPU (CPU AUC = 2.0 +- 0.2 core*s at 5 Hz and 100 Hz), a
 * child that holds 300 MB for 2 s (RAM AUC = 600 +- 60 MB*s), and the
 * `edgelm profile` command: exit status forwarding, JSON, a killed child and
 * an interrupted profiler (still writes everything, "complete": false). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "edgelm/measure.h"
#include "measure/measure_int.h"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* child bodies */
static void spin_cpu(double seconds)
{
    // 2 s of CPU time (not wall time: the machine may be busy)
    static volatile unsigned long sink;
    unsigned long x = 0;
    double c0 = cpu_now();
    while (cpu_now() - c0 < seconds)
        for (int i = 0; i < 10000; i++) x = x * 31 + (unsigned long)i;
    sink = x;
    (void)sink;
}

/* Map and touch mb MB, tell the parent (byte 'r' on evfd), wait for its ack
 * on ackfd, hold for `seconds`, tell the parent ('f'), wait for the ack,
 * release. The parent opens and closes a marker window at 'r' and 'f'. */
static void hold_ram(size_t mb, double seconds, int evfd, int ackfd)
{
    size_t n = mb << 20;
    char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED) _exit(3);
    for (size_t i = 0; i < n; i += 4096) p[i] = (char)i;  // write every page
    char c;
    if (write(evfd, "r", 1) != 1 || read(ackfd, &c, 1) != 1) _exit(5);
    // one absolute sleep: no drift from repeated wake-ups on a busy machine
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)seconds;
    until.tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR) {}
    if (write(evfd, "f", 1) != 1 || read(ackfd, &c, 1) != 1) _exit(5);
    volatile char sink = p[n - 1];
    (void)sink;
    munmap(p, n);
}

/* Profile a forked child running body(); returns the profiler (stopped). */
static el_profiler *profile_child(double hz, int which)
{
    el_profiler_config cfg = el_profiler_defaults();
    cfg.hz = hz;
    cfg.idle_s = 0.3;
    cfg.pid = -1;
    cfg.energy = "auto";
    el_err err;
    el_profiler *p = el_profiler_new(&cfg, &err);
    if (!p) fail_msg("%s", err.msg);
    assert_int_equal(el_profiler_start(p, &err), 0);
    assert_int_equal(el_profiler_wait_idle(p, NULL), 0);
    int go[2], ev[2];
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(ev), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char c;
        close(go[1]);
        close(ev[0]);
        if (read(go[0], &c, 1) != 1) _exit(4);
        if (which == 0) spin_cpu(2.0);
        else hold_ram(300, 2.0, ev[1], go[0]);
        _exit(0);
    }
    close(go[0]);
    close(ev[1]);
    if (el_profiler_attach(p, pid, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(write(go[1], "g", 1), 1);
    if (which == 1) {
        // the hold: a marker window from 'r' to 'f'
        char c;
        assert_int_equal(read(ev[0], &c, 1), 1);
        assert_int_equal(el_profiler_begin(p, "hold", &err), 0);
        assert_int_equal(write(go[1], "a", 1), 1);
        assert_int_equal(read(ev[0], &c, 1), 1);
        assert_int_equal(el_profiler_end(p, "hold", &err), 0);
        assert_int_equal(write(go[1], "a", 1), 1);
    }
    close(go[1]);
    close(ev[0]);
    siginfo_t si;
    while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) != 0 && errno == EINTR) {}
    assert_int_equal(el_profiler_stop(p, &err), 0);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    return p;
}

static void test_spinner_cpu_auc(void **state)
{
    (void)state;
    const double hzs[2] = {5, 100};
    for (int h = 0; h < 2; h++) {
        el_profiler *p = profile_child(hzs[h], 0);
        const el_profile_result *r = el_profiler_results(p);
        printf("spinner at %3.0f Hz: CPU AUC %.3f core*s (trapezoid %.3f), user %.3f sys %.3f, wall %.2f s, %ld samples, "
               "%d auto windows, sampler %.4f s CPU (%.3f%% of a core)\n",
               hzs[h], r->total.cpu_core_s, r->total.cpu_trapz_core_s, r->total.user_s, r->total.sys_s,
               r->total.wall_s, r->n_samples, r->n_windows, r->sampler_cpu_s,
               100 * r->sampler_cpu_s / (r->sampler_wall_s > 0 ? r->sampler_wall_s : 1));
        assert_true(fabs(r->total.cpu_core_s - 2.0) <= 0.2);
        assert_true(fabs(r->total.cpu_trapz_core_s - 2.0) <= 0.2);
        assert_true(r->n_windows >= 1);
        el_profiler_free(p);
    }
}

static void test_holder_ram_auc(void **state)
{
    (void)state;
    el_profiler *p = profile_child(5, 1);
    const el_profile_result *r = el_profiler_results(p);
    long n;
    const el_sample *s = el_profiler_samples(p, &n);
    printf("samples (t s: RSS MB):");
    for (long i = 0; i < n; i++) printf(" %.2f:%.0f", s[i].t - r->t_run, s[i].rss_mb);
    printf("\n");
    assert_true(r->n_windows >= 1);
    const el_window_stats *w = &r->windows[0];
    assert_string_equal(w->name, "hold");
    printf("300 MB holder at 5 Hz: hold window %.3f s: RAM AUC %.1f MB*s (%.3f %%*s), PSS AUC %.1f MB*s, peak RSS "
           "%.1f MB; whole run incl. allocation and release: %.1f MB*s over %.2f s\n",
           w->wall_s, w->ram_mb_s, w->ram_pct_s, w->pss_mb_s, w->peak_rss_mb, r->total.ram_mb_s, r->total.wall_s);
#ifndef EL_SANITIZE
    assert_true(fabs(w->ram_mb_s - 600) <= 60);
    assert_true(w->peak_rss_mb > 300 && w->peak_rss_mb < 330);
#else
    // under ASan the child's RSS also holds shadow memory (~10% more): check
    // the integral against what it really held
    assert_true(fabs(w->ram_mb_s - 2.0 * w->peak_rss_mb) <= 0.1 * 2.0 * w->peak_rss_mb);
#endif
    // the whole run adds the allocation ramp and the release, never less
    assert_true(r->total.ram_mb_s >= w->ram_mb_s);
    el_profiler_free(p);
}

/* In-process: markers around work in this very process. */
static void test_in_process_markers(void **state)
{
    (void)state;
    el_profiler_config cfg = el_profiler_defaults();
    cfg.hz = 50;
    cfg.idle_s = 0.2;
    cfg.energy = "none";
    el_err err;
    el_profiler *p = el_profiler_new(&cfg, &err);
    if (!p) fail_msg("%s", err.msg);
    assert_int_equal(el_profiler_start(p, &err), 0);
    assert_int_equal(el_profiler_wait_idle(p, NULL), 0);
    assert_int_equal(el_profiler_begin(p, "spin", &err), 0);
    spin_cpu(0.5);
    assert_int_equal(el_profiler_end(p, "spin", &err), 0);
    assert_int_equal(el_profiler_end(p, "spin", &err), -1);  // already closed
    printf("double end: %s\n", err.msg);
    assert_int_equal(el_profiler_stop(p, &err), 0);
    const el_profile_result *r = el_profiler_results(p);
    assert_true(r->n_windows >= 1);
    const el_window_stats *w = &r->windows[0];
    printf("in-process window '%s': %.3f core*s over %.3f s, energy label %s\n", w->name, w->cpu_core_s, w->wall_s,
           r->energy_label);
    assert_string_equal(w->name, "spin");
    assert_true(fabs(w->cpu_core_s - 0.5) < 0.1);
    assert_true(isnan(w->energy_j));
    el_profiler_free(p);
}

/* ---- the CLI ------------------------------------------------------------------ */

static cJSON *load_json(const char *path)
{
    char *text = tu_read_file(path, NULL);
    assert_non_null(text);
    cJSON *j = cJSON_Parse(text);
    free(text);
    assert_non_null(j);
    return j;
}

static bool has_energy_counter(void)
{
    return access("/sys/class/powercap/intel-rapl:0/energy_uj", R_OK) == 0 ||
           access("/sys/bus/event_source/devices/power/type", R_OK) == 0 || access("/sys/class/hwmon", F_OK) == 0;
}

static void test_cli_profile_exit_status_and_json(void **state)
{
    (void)state;
    char *json = tu_tmp("measure-cli-1.json");
    char *trace = tu_tmp("measure-cli-1.trace.csv");
    char *cmd = tu_fmt("%s profile --idle 0.3 --hz 20 -o '%s' -- sh -c "
                       "'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; echo child-out; exit 3'",
                       EL_BIN, json);
    char *out = NULL, *err = NULL;
    int rc = tu_run(cmd, &out, &err);
    printf("rc %d\nstdout: %sstderr:\n%s", rc, out, err);
    assert_int_equal(rc, 3);                       // forwarded
    assert_non_null(strstr(out, "child-out"));     // the child's stdout is untouched
    assert_non_null(strstr(err, "CPU core*s"));    // the summary table
    cJSON *j = load_json(json);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "complete")));
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "exit"), "code")->valueint, 3);
    cJSON *es = cJSON_GetObjectItem(j, "energy_source");
    const char *label = cJSON_GetObjectItem(es, "label")->valuestring;
    const char *name = cJSON_GetObjectItem(es, "name")->valuestring;
    printf("energy source: %s (%s)\n", name, label);
    if (!has_energy_counter()) {
        assert_string_equal(label, "estimated");
        assert_true(strncmp(name, "model:", 6) == 0);
    }
    cJSON *tot = cJSON_GetObjectItem(j, "total");
    double cpu = cJSON_GetObjectItem(cJSON_GetObjectItem(tot, "cpu"), "auc_core_s")->valuedouble;
    double ru = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "rusage"), "user_s")->valuedouble +
                cJSON_GetObjectItem(cJSON_GetObjectItem(j, "rusage"), "system_s")->valuedouble;
    printf("CPU AUC %.3f core*s vs the kernel's rusage %.3f s\n", cpu, ru);
    assert_true(fabs(cpu - ru) < 0.05 + 0.1 * ru);  // tick resolution
    assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(tot, "energy"), "joules")->valuedouble >= 0);
    cJSON_Delete(j);
    // the trace: header comment, column line, rows; readable by the calibration reader
    el_trace tr;
    el_err e;
    if (el_trace_load(trace, &tr, &e) != 0) fail_msg("%s", e.msg);
    printf("trace: %ld rows, %d cpus\n", tr.n, tr.n_cpus);
    assert_true(tr.n >= 6);
    el_trace_free(&tr);
    free(cmd);
    free(out);
    free(err);
    free(json);
    free(trace);
}

static void test_cli_killed_child(void **state)
{
    (void)state;
    char *json = tu_tmp("measure-cli-2.json");
    char *cmd = tu_fmt("%s profile -q --idle 0.1 --hz 50 -o '%s' -- sh -c 'kill -9 $$'", EL_BIN, json);
    int rc = tu_run(cmd, NULL, NULL);
    printf("killed child: rc %d\n", rc);
    assert_int_equal(rc, 137);
    cJSON *j = load_json(json);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "complete")));
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "exit"), "signal")->valueint, 9);
    cJSON_Delete(j);
    free(cmd);
    // a command that cannot be run
    char *err = NULL;
    cmd = tu_fmt("%s profile -q --idle 0 -o '%s' -- /nonexistent/program", EL_BIN, json);
    rc = tu_run(cmd, NULL, &err);
    printf("exec failure: rc %d: %s", rc, err);
    assert_int_equal(rc, 127);
    assert_non_null(strstr(err, "/nonexistent/program"));
    free(err);
    free(cmd);
    free(json);
}

/* A command far shorter than the sampling period: no sample of its own, yet
 * the whole run's peak RSS is at least its maximum RSS from the kernel. */
static void test_cli_short_child_peak_rss(void **state)
{
    (void)state;
    char *json = tu_tmp("measure-cli-4.json");
    char *cmd = tu_fmt("%s profile -q --idle 0 --hz 1 -o '%s' -- true", EL_BIN, json);
    assert_int_equal(tu_run(cmd, NULL, NULL), 0);
    cJSON *j = load_json(json);
    double kern = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "rusage"), "max_rss_mb")->valuedouble;
    double peak = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "total"), "ram"), "peak_rss_mb")->valuedouble;
    printf("short child: peak RSS %.2f MB, kernel's max RSS %.2f MB\n", peak, kern);
    assert_true(kern > 0);
    assert_true(peak >= kern);
    cJSON_Delete(j);
    free(cmd);
    free(json);
}

static void test_cli_interrupted(void **state)
{
    (void)state;
    char *json = tu_tmp("measure-cli-3.json");
    char *trace = tu_tmp("measure-cli-3.trace.csv");
    unlink(json);
    // SIGTERM to the profiler: forwarded to the child, results still written
    char *cmd = tu_fmt("%s profile -q --idle 0.2 --hz 10 -o '%s' -- sleep 30 & p=$!; sleep 1.2; kill -TERM $p; "
                       "wait $p; echo \"status $?\"",
                       EL_BIN, json);
    char *out = NULL;
    double t0 = wall_now();
    int rc = tu_run(cmd, &out, NULL);
    double took = wall_now() - t0;
    printf("interrupted: rc %d, %s(took %.2f s)\n", rc, out, took);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "status 143"));
    assert_true(took < 10);  // the child was stopped, not waited for
    cJSON *j = load_json(json);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "complete")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "interrupted")));
    double wall = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "total"), "wall_s")->valuedouble;
    printf("measured %.2f s before the interrupt\n", wall);
    assert_true(wall > 0.5 && wall < 5);
    cJSON_Delete(j);
    el_trace tr;
    el_err e;
    if (el_trace_load(trace, &tr, &e) != 0) fail_msg("%s", e.msg);
    printf("trace after interrupt: %ld rows\n", tr.n);
    assert_true(tr.n >= 8);
    el_trace_free(&tr);
    free(out);
    free(cmd);
    free(json);
    free(trace);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spinner_cpu_auc),
        cmocka_unit_test(test_holder_ram_auc),
        cmocka_unit_test(test_in_process_markers),
        cmocka_unit_test(test_cli_profile_exit_status_and_json),
        cmocka_unit_test(test_cli_killed_child),
        cmocka_unit_test(test_cli_short_child_peak_rss),
        cmocka_unit_test(test_cli_interrupted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
