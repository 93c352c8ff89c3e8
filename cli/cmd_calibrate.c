/* cmd_calibrate.c -- `edgelm calibrate --meter FILE --trace trace.csv`: fit
 * the utilisation power model P = P_idle + (P_max - P_idle) * u by least
 * squares, from an external meter's log against the system utilisation that
 * `edgelm profile` recorded in its trace, and report the fit's error. */
#include "cli.h"

#include <math.h>
#include <string.h>

#include "edgelm/measure.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: edgelm calibrate --meter FILE --trace TRACE.csv [options]\n"
            "\n"
            "Fit a power model P = P_idle + (P_max - P_idle) * u from a power meter's log\n"
            "and a trace written by 'edgelm profile --trace' over the same period\n"
            "(u = whole-system CPU utilisation, 0..1). One point per meter interval: the\n"
            "interval's mean power against its mean utilisation. Record both idle and\n"
            "loaded periods. Prints P_idle, P_max, RMSE and R^2; the profile can then be\n"
            "used as --energy model:FILE.json on machines with no energy counter.\n"
            "\n"
            "options:\n"
            "  --meter FILE        meter log CSV (time + watts, or time + volts + amps)\n"
            "  --trace FILE        trace CSV from edgelm profile\n"
            "  --meter-offset S    seconds added to the meter's timestamps (default 0)\n"
            "  --max-gap S         skip meter intervals longer than S (default 2.5 x median)\n"
            "  --profile-out FILE  write the fitted profile as JSON\n"
            "  --name NAME         profile name (default calibrated)\n"
            "  -h, --help          this help\n");
}

int cmd_calibrate(int argc, char **argv)
{
    const char *cmd = argv[0];
    const char *meter = NULL, *trace = NULL, *out = NULL, *name = "calibrated";
    double offset = 0, max_gap = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is(a, "-h", "--help")) {
            usage(stdout);
            return 0;
        } else if (cli_is(a, "--meter", NULL)) {
            if (!(meter = cli_value(cmd, argc, argv, &i))) return 2;
        } else if (cli_is(a, "--trace", NULL)) {
            if (!(trace = cli_value(cmd, argc, argv, &i))) return 2;
        } else if (cli_is(a, "--profile-out", NULL)) {
            if (!(out = cli_value(cmd, argc, argv, &i))) return 2;
        } else if (cli_is(a, "--name", NULL)) {
            if (!(name = cli_value(cmd, argc, argv, &i))) return 2;
        } else if (cli_is(a, "--meter-offset", NULL)) {
            const char *v = cli_value(cmd, argc, argv, &i);
            if (!v || cli_float(cmd, a, v, -1e10, 1e10, &offset)) return 2;
        } else if (cli_is(a, "--max-gap", NULL)) {
            const char *v = cli_value(cmd, argc, argv, &i);
            if (!v || cli_float(cmd, a, v, 0.001, 1e6, &max_gap)) return 2;
        } else {
            return cli_unknown(cmd, a);
        }
    }
    if (!meter) return cli_missing(cmd, "option --meter FILE");
    if (!trace) return cli_missing(cmd, "option --trace FILE");
    el_err err;
    el_meterlog m;
    el_trace tr;
    if (el_meterlog_load(meter, &m, &err) != 0) {
        cli_error(cmd, "%s", err.msg);
        return 1;
    }
    if (el_trace_load(trace, &tr, &err) != 0) {
        el_meterlog_free(&m);
        cli_error(cmd, "%s", err.msg);
        return 1;
    }
    for (long i = 0; i < m.n; i++) m.t[i] += offset;
    el_power_fit fit;
    int rc = 0;
    if (el_power_fit_meter(&m, &tr, max_gap, &fit, &err) != 0) {
        cli_error(cmd, "%s", err.msg);
        rc = 1;
    } else {
        printf("meter %s: %ld readings (median interval %.3f s); trace %s: %ld samples, %d cpus\n", meter, m.n,
               m.median_dt, trace, tr.n, tr.n_cpus);
        printf("fitted on %ld meter intervals, utilisation %.3f .. %.3f\n", fit.n, fit.u_min, fit.u_max);
        printf("P_idle = %.3f W\nP_max  = %.3f W\nRMSE   = %.3f W\nR^2    = %.4f\n", fit.p_idle_w, fit.p_max_w,
               fit.rmse_w, fit.r2);
        if (fit.u_max - fit.u_min < 0.5)
            printf("note: utilisation only spans %.2f; P_max is extrapolated (record a fully loaded period)\n",
                   fit.u_max - fit.u_min);
        if (fit.p_idle_w < 0 || fit.p_max_w < fit.p_idle_w)
            printf("warning: the fit is not physical (P_idle < 0 or P_max < P_idle); check the alignment\n");
        if (out) {
            el_power_profile pp;
            memset(&pp, 0, sizeof pp);
            snprintf(pp.name, sizeof pp.name, "%s", name);
            pp.p_idle_w = fit.p_idle_w;
            pp.p_max_w = fit.p_max_w;
            snprintf(pp.source, sizeof pp.source,
                     "edgelm calibrate: least squares on %ld meter intervals, RMSE %.3f W, R^2 %.4f (measured fit)",
                     fit.n, fit.rmse_w, fit.r2);
            if (!(pp.p_idle_w >= 0 && pp.p_max_w >= pp.p_idle_w)) {
                cli_error(cmd, "not writing %s: the fitted profile is not physical", out);
                rc = 1;
            } else if (el_power_profile_write(&pp, out, &fit, &err) != 0) {
                cli_error(cmd, "%s", err.msg);
                rc = 1;
            } else {
                printf("wrote %s (use: edgelm profile --energy model:%s -- ...)\n", out, out);
            }
        }
    }
    el_meterlog_free(&m);
    el_trace_free(&tr);
    return rc;
}
