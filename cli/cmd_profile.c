/* cmd_profile.c -- `edgelm profile [options] -- COMMAND ARGS...`: run a
 * command, measure its process tree with the study's method (idle baseline,
 * windows, trapezoidal AUC) and an energy source, forward its exit status. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "edgelm/measure.h"

/* Signal state: a handler can only talk to the main flow through statics
 * (the one exception to "no global mutable state"). */
static volatile sig_atomic_t g_signal;
static volatile sig_atomic_t g_child;
static volatile sig_atomic_t g_count;

static void on_signal(int sig, siginfo_t *info, void *uc)
{
    (void)uc;
    g_signal = sig;
    g_count++;
    if (g_child <= 0) return;
    if (g_count >= 3) kill((pid_t)g_child, SIGKILL);  // third time: no more waiting
    // a terminal's Ctrl-C already reaches the child (same process group);
    // forward only signals sent to the profiler itself (kill, timeout, ...)
    else if (!info || info->si_code != SI_KERNEL) kill((pid_t)g_child, sig);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: edgelm profile [options] -- COMMAND [ARGS...]\n"
            "\n"
            "Run COMMAND and measure its process tree the way the study did: an idle\n"
            "baseline first, then CPU and RAM sampled at --hz, windows found from the\n"
            "gradient of the CPU signal, AUC above baseline by the trapezoidal rule,\n"
            "and energy from the best source available. The command's exit status is\n"
            "forwarded. A summary goes to stderr; JSON (docs/profile-json.md) and the\n"
            "raw trace CSV go to files. Interrupted runs are still written, with\n"
            "\"complete\": false.\n"
            "\n"
            "options:\n"
            "  --hz N             samples per second, 0.1..1000 (default 5, the study's rate)\n"
            "  --idle S           idle baseline before the command, seconds (default 3)\n"
            "  --energy SRC       auto (default), none, rapl, rapl+dram, perf, hwmon[:NAME],\n"
            "                     pmic, pmic:wall, meter:FILE, model:rpi5, model:x86[:TDP=W],\n"
            "                     model:idle=W,max=W, model:FILE.json (from edgelm calibrate)\n"
            "  --meter-offset S   seconds added to the meter log's timestamps (default 0)\n"
            "  -o, --output FILE  JSON result (default profile.json; '-' = stdout)\n"
            "  --trace FILE       trace CSV, written while sampling (default: the JSON name\n"
            "                     with .trace.csv; 'none' to skip)\n"
            "  --no-windows       do not detect windows automatically\n"
            "  -q, --quiet        no summary table\n"
            "  -h, --help         this help\n"
            "\n"
            "example:\n"
            "  edgelm profile --hz 5 --idle 3 -o run.json -- edgelm generate -m m.gguf -p Hi\n");
}

static void fmt_or_dash(char *b, size_t cap, double v, const char *fmt)
{
    if (isnan(v)) snprintf(b, cap, "-");
    else snprintf(b, cap, fmt, v);
}

static void print_row(const el_profile_result *r, const el_window_stats *w)
{
    char e[32], pss[32];
    fmt_or_dash(e, sizeof e, w->energy_j, "%.2f");
    fmt_or_dash(pss, sizeof pss, w->peak_pss_mb, "%.1f");
    fprintf(stderr, "%-14s %8.2f %8.2f %10.3f %9.2f %7.2f %6.2f %10.1f %9.1f %9s %9s %s\n", w->name,
            w->t0 - r->t_run, w->wall_s, w->cpu_core_s, w->cpu_pct_s, w->user_s, w->sys_s, w->ram_mb_s,
            w->peak_rss_mb, pss, e, strcmp(r->energy_label, "none") == 0 ? "" : r->energy_label);
}

static void print_summary(const el_profile_result *r, const char *cmd, const char *status, int max_rows)
{
    fprintf(stderr, "\nedgelm profile: '%s' %s after %.2f s; %ld samples at %g Hz; %s\n", cmd, status,
            r->total.wall_s, r->n_samples, r->hz, r->complete ? "complete" : "INCOMPLETE");
    fprintf(stderr, "energy: %s (%s) %s\n", r->energy_name, r->energy_label, r->energy_detail);
    char pw[32];
    fmt_or_dash(pw, sizeof pw, r->base.power_w, "%.2f W");
    fprintf(stderr,
            "baseline: %d samples over %.2f s: tree %.3f cores, system %.3f cores (sd %.3f), "
            "system memory %.0f MB, power %s\n",
            r->base.n, r->base.duration_s, r->base.tree_cores, r->base.sys_cores, r->base.sys_cores_sd,
            r->base.sys_mem_mb, pw);
    fprintf(stderr, "\n%-14s %8s %8s %10s %9s %7s %6s %10s %9s %9s %9s\n", "window", "start s", "wall s",
            "CPU core*s", "CPU %*s", "user s", "sys s", "RAM MB*s", "peakRSS", "peakPSS", "energy J");
    print_row(r, &r->total);
    for (int k = 0; k < r->n_windows && k < max_rows; k++) print_row(r, &r->windows[k]);
    if (r->n_windows > max_rows) fprintf(stderr, "... %d more windows in the JSON\n", r->n_windows - max_rows);
    fprintf(stderr, "(CPU %%*s: percent of all %d cores; RAM: tree RSS above baseline, MB = 2^20 bytes)\n",
            r->n_cpus);
    if (r->sampler_wall_s > 0)
        fprintf(stderr, "overhead: the sampler used %.4f s CPU over %.2f s (%.3f%% of one core)\n",
                r->sampler_cpu_s, r->sampler_wall_s, 100.0 * r->sampler_cpu_s / r->sampler_wall_s);
}

static char *join_cmd(char **argv, int argc)
{
    size_t n = 1;
    for (int i = 0; i < argc; i++) n += strlen(argv[i]) + 1;
    char *s = malloc(n);
    if (!s) return NULL;
    s[0] = 0;
    for (int i = 0; i < argc; i++) {
        if (i) strcat(s, " ");
        strcat(s, argv[i]);
    }
    return s;
}

int cmd_profile(int argc, char **argv)
{
    const char *cmd = argv[0];
    el_profiler_config cfg = el_profiler_defaults();
    cfg.pid = -1;
    const char *out = "profile.json", *trace = NULL;
    bool quiet = false;
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        const char *v;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-') break;  // the command starts here
        if (cli_is(a, "-h", "--help")) {
            usage(stdout);
            return 0;
        } else if (cli_is(a, "--hz", NULL)) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || cli_float(cmd, a, v, 0.1, 1000, &cfg.hz)) return 2;
        } else if (cli_is(a, "--idle", NULL)) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || cli_float(cmd, a, v, 0, 3600, &cfg.idle_s)) return 2;
        } else if (cli_is(a, "--energy", NULL)) {
            if (!(v = cli_value(cmd, argc, argv, &i))) return 2;
            cfg.energy = v;
        } else if (cli_is(a, "--meter-offset", NULL)) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || cli_float(cmd, a, v, -1e10, 1e10, &cfg.meter_offset_s))
                return 2;
        } else if (cli_is(a, "-o", "--output")) {
            if (!(out = cli_value(cmd, argc, argv, &i))) return 2;
        } else if (cli_is(a, "--trace", NULL)) {
            if (!(trace = cli_value(cmd, argc, argv, &i))) return 2;
        } else if (cli_is(a, "--no-windows", NULL)) {
            cfg.auto_windows = false;
        } else if (cli_is(a, "-q", "--quiet")) {
            quiet = true;
        } else {
            return cli_unknown(cmd, a);
        }
    }
    if (i >= argc) return cli_missing(cmd, "command after '--'");
    char **cargv = argv + i;
    int cargc = argc - i;

    // the trace file: default beside the JSON
    char trace_buf[4096];
    if (!trace) {
        if (strcmp(out, "-") == 0) trace = "profile.trace.csv";
        else {
            size_t n = strlen(out);
            if (n > 5 && strcmp(out + n - 5, ".json") == 0) n -= 5;
            snprintf(trace_buf, sizeof trace_buf, "%.*s.trace.csv", (int)n, out);
            trace = trace_buf;
        }
    }
    if (strcmp(trace, "none") != 0) cfg.trace_path = trace;
    else trace = NULL;

    el_err err;
    el_profiler *p = el_profiler_new(&cfg, &err);
    if (!p) {
        cli_error(cmd, "%s", err.msg);
        return 1;
    }
    char *cmdline = join_cmd(cargv, cargc);
    if (!cmdline) {
        el_profiler_free(p);
        cli_error(cmd, "out of memory");
        return 1;
    }

    struct sigaction sa, old_int, old_term, old_hup;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    g_signal = 0;
    g_child = 0;
    g_count = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGHUP, &sa, &old_hup);

    int rc = 1, exit_code = 1;
    pid_t pid = -1;
    bool ran = false, exec_failed = false;
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    int sync_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};

    if (el_profiler_start(p, &err) != 0) {
        cli_error(cmd, "%s", err.msg);
        goto done;
    }
    if (el_profiler_wait_idle(p, (volatile const int *)&g_signal) != 0) goto finish;  // interrupted while idle
    if (pipe2(sync_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
        cli_error(cmd, "pipe: %s", strerror(errno));
        goto done;
    }
    pid = fork();
    if (pid < 0) {
        cli_error(cmd, "fork: %s", strerror(errno));
        goto done;
    }
    if (pid == 0) {
        // child: default signal handling, wait until the profiler watches, exec
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        char c;
        close(sync_pipe[1]);
        while (read(sync_pipe[0], &c, 1) < 0 && errno == EINTR) {}
        execvp(cargv[0], cargv);
        int e = errno;
        ssize_t w = write(err_pipe[1], &e, sizeof e);
        (void)w;
        _exit(127);
    }
    g_child = pid;
    close(sync_pipe[0]);
    close(err_pipe[1]);
    sync_pipe[0] = err_pipe[1] = -1;
    if (el_profiler_attach(p, pid, &err) != 0) cli_error(cmd, "%s", err.msg);
    {
        ssize_t w = write(sync_pipe[1], "x", 1);
        (void)w;
    }
    close(sync_pipe[1]);
    sync_pipe[1] = -1;
    int child_errno = 0;
    ssize_t got;
    while ((got = read(err_pipe[0], &child_errno, sizeof child_errno)) < 0 && errno == EINTR) {}
    close(err_pipe[0]);
    err_pipe[0] = -1;
    exec_failed = got == (ssize_t)sizeof child_errno;
    ran = true;
    // wait for the exit without reaping: the last sample still sees the
    // zombie's final CPU times
    siginfo_t si;
    memset(&si, 0, sizeof si);
    while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) != 0) {
        if (errno != EINTR) break;
    }
finish:
    if (ran && !exec_failed) {
        // how did it end? (the zombie is not reaped yet)
        siginfo_t s2;
        memset(&s2, 0, sizeof s2);
        if (waitid(P_PID, (id_t)pid, &s2, WEXITED | WNOWAIT | WNOHANG) == 0 &&
            (s2.si_code == CLD_KILLED || s2.si_code == CLD_DUMPED))
            el_profiler_set_complete(p, false);
    }
    if (g_signal != 0 || !ran || exec_failed) el_profiler_set_complete(p, false);
    if (el_profiler_stop(p, &err) != 0) cli_error(cmd, "%s", err.msg);
    if (ran) {
        while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {}
        g_child = 0;
    }
    {
        cJSON *extra = cJSON_CreateObject();
        cJSON *ca = extra ? cJSON_AddArrayToObject(extra, "command") : NULL;
        for (int k = 0; ca && k < cargc; k++) cJSON_AddItemToArray(ca, cJSON_CreateString(cargv[k]));
        cJSON *ex = extra ? cJSON_AddObjectToObject(extra, "exit") : NULL;
        char status_text[128];
        if (!ran) {
            snprintf(status_text, sizeof status_text, "was not started (interrupted during the idle baseline)");
            exit_code = 128 + (g_signal ? g_signal : SIGINT);
            if (ex) cJSON_AddNullToObject(ex, "code");
        } else if (exec_failed) {
            snprintf(status_text, sizeof status_text, "could not be run");
            exit_code = 127;
            if (ex) cJSON_AddNumberToObject(ex, "code", 127);
        } else if (WIFEXITED(status)) {
            exit_code = WEXITSTATUS(status);
            snprintf(status_text, sizeof status_text, "exited with status %d", exit_code);
            if (ex) cJSON_AddNumberToObject(ex, "code", exit_code);
        } else if (WIFSIGNALED(status)) {
            exit_code = 128 + WTERMSIG(status);
            snprintf(status_text, sizeof status_text, "was killed by signal %d (%s)", WTERMSIG(status),
                     strsignal(WTERMSIG(status)));
            if (ex) {
                cJSON_AddNumberToObject(ex, "signal", WTERMSIG(status));
                cJSON_AddStringToObject(ex, "signal_name", strsignal(WTERMSIG(status)));
            }
        } else {
            snprintf(status_text, sizeof status_text, "ended");
        }
        if (extra) {
            cJSON_AddBoolToObject(extra, "interrupted", g_signal != 0);
            if (ran && !exec_failed) {
                cJSON *r = cJSON_AddObjectToObject(extra, "rusage");
                if (r) {
                    // kernel's totals for the child and the descendants it reaped
                    cJSON_AddNumberToObject(r, "user_s", (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec);
                    cJSON_AddNumberToObject(r, "system_s", (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec);
                    cJSON_AddNumberToObject(r, "max_rss_mb", (double)ru.ru_maxrss / 1024.0);
                }
            }
            if (trace) cJSON_AddStringToObject(extra, "trace", trace);
        }
        if (exec_failed) cli_error(cmd, "cannot run '%s': %s", cargv[0], "exec failed (not found or not executable)");
        if (ran && !exec_failed) el_profiler_floor_peak_rss(p, (double)ru.ru_maxrss / 1024.0);
        const el_profile_result *res = el_profiler_results(p);
        if (!quiet) print_summary(res, cmdline, status_text, 20);
        rc = 0;
        if (el_profiler_write_json(p, out, extra, &err) != 0) {
            cli_error(cmd, "%s", err.msg);
            rc = 1;
        } else if (!quiet) {
            fprintf(stderr, "wrote %s%s%s\n", strcmp(out, "-") == 0 ? "JSON to stdout" : out, trace ? " and " : "",
                    trace ? trace : "");
        }
        cJSON_Delete(extra);
    }
done:
    for (int k = 0; k < 2; k++) {
        if (sync_pipe[k] >= 0) close(sync_pipe[k]);
        if (err_pipe[k] >= 0) close(err_pipe[k]);
    }
    if (pid > 0 && g_child > 0) {
        // an error path left the child running: stop it
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    el_profiler_free(p);
    free(cmdline);
    if (rc != 0) return 1;
    return exit_code;
}
