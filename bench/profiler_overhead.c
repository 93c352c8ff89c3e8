/* profiler_overhead.c -- what the profiler costs: CPU time of the sampler
 * thread per second of wall time, in percent of one core, at several rates,
 * while it follows a small process tree (a parent and 4 sleeping children).
 * The target is < 0.5% of one core at 5 Hz and < 2% at 100 Hz.
 *
 * usage: bench_profiler_overhead [SECONDS_PER_RATE] [HZ...]   (default 10 s; 5 20 100 200)
 * Two figures per rate: the sampler thread's own CPU clock, and the whole
 * process's CPU (getrusage) while the main thread only sleeps. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "edgelm/measure.h"

static double rusage_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
           1e-6 * (double)ru.ru_stime.tv_usec;
}

/* a parent with 4 sleeping children: the tree the sampler walks */
static pid_t spawn_tree(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);  // one group: killed together at the end
        for (int i = 0; i < 4; i++)
            if (fork() == 0) {
                pause();
                _exit(0);
            }
        pause();
        _exit(0);
    }
    return pid;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 10;
    double def[] = {5, 20, 100, 200};
    int nr = argc > 2 ? argc - 2 : 4;
    if (secs <= 0) {
        fprintf(stderr, "usage: bench_profiler_overhead [SECONDS_PER_RATE] [HZ...]\n");
        return 2;
    }
    printf("profiler overhead: %.0f s per rate, tree of 5 processes, energy source auto\n", secs);
    printf("%8s %9s %12s %14s %14s %10s\n", "hz", "samples", "sampler s", "sampler %core", "process %core",
           "target");
    int rc = 0;
    for (int k = 0; k < nr; k++) {
        double hz = argc > 2 ? atof(argv[2 + k]) : def[k];
        pid_t tree = spawn_tree();
        usleep(100000);  // let the children start
        el_profiler_config cfg = el_profiler_defaults();
        cfg.hz = hz;
        cfg.idle_s = 0;
        cfg.pid = tree;
        el_err err;
        el_profiler *p = el_profiler_new(&cfg, &err);
        if (!p) {
            fprintf(stderr, "bench: %s\n", err.msg);
            return 1;
        }
        double c0 = rusage_cpu();
        struct timespec w0, w1;
        clock_gettime(CLOCK_MONOTONIC, &w0);
        if (el_profiler_start(p, &err) != 0) {
            fprintf(stderr, "bench: %s\n", err.msg);
            return 1;
        }
        struct timespec d = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
        nanosleep(&d, NULL);
        el_profiler_stop(p, &err);
        clock_gettime(CLOCK_MONOTONIC, &w1);
        double wall = (double)(w1.tv_sec - w0.tv_sec) + 1e-9 * (double)(w1.tv_nsec - w0.tv_nsec);
        double proc = rusage_cpu() - c0;
        const el_profile_result *r = el_profiler_results(p);
        double pct = 100 * r->sampler_cpu_s / r->sampler_wall_s;
        const char *target = hz <= 5 ? "< 0.5%" : hz <= 100 ? "< 2%" : "-";
        double limit = hz <= 5 ? 0.5 : hz <= 100 ? 2 : 1e9;
        printf("%8g %9ld %12.4f %13.3f%% %13.3f%% %10s %s\n", hz, r->n_samples, r->sampler_cpu_s, pct,
               100 * proc / wall, target, pct < limit ? "ok" : "OVER");
        if (pct >= limit) rc = 1;
        el_profiler_free(p);
        kill(-tree, SIGKILL);
        waitpid(tree, NULL, 0);
    }
    printf("(process %%core: the whole benchmark process, i.e. the sampler plus the final analysis)\n");
    return rc;
}
