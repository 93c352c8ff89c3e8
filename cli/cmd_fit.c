/* cmd_fit.c -- `edgelm fit RUN.jsonl --law linear|knee`: the cost law of a
 * sweep, with bootstrap confidence intervals. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "study_util.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: edgelm fit RUN.jsonl [options]\n"
            "\n"
            "Fit the law a sweep's cost follows (edgelm sweep writes RUN.jsonl).\n"
            "  linear: ordinary least squares cost = a + b*x, 95%% CIs from a bootstrap over\n"
            "          the repeats, R^2, residuals, and the quadratic term (size, t, p-value)\n"
            "  knee:   a power law below the knee and a plateau above it (images: x = pixels),\n"
            "          with the knee's position, its CI and the plateau level\n"
            "\n"
            "options:\n"
            "      --law LAW        linear (default) or knee\n"
            "      --metric LIST    comma-separated metrics (default cpu_auc): cpu_auc, ram_auc,\n"
            "                       energy, wall, ttft, prefill, decode, peak_rss, or any numeric\n"
            "                       field of the measurement records; 'all' = cpu_auc,ram_auc,energy,wall\n"
            "      --x FIELD        the size variable (default tokens)\n"
            "      --boot N         bootstrap resamples (default 2000)\n"
            "      --seed S         bootstrap seed (default 1)\n"
            "  -o, --format FMT     table (default), json or csv\n"
            "      --svg FILE       also write a plot of the (first) metric\n"
            "  -h, --help           this help\n");
}

int cmd_fit(int argc, char **argv)
{
    const char *cmd = "fit";
    const char *path = NULL, *law = "linear", *svg = NULL;
    study_opts o = {"cpu_auc", "tokens", "table", 2000, 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int k;
        if (cli_is(a, "-h", "--help")) {
            usage(stdout);
            return 0;
        } else if (cli_is(a, "--law", NULL)) {
            if (!(law = cli_value(cmd, argc, argv, &i))) return 2;
            if (strcmp(law, "linear") && strcmp(law, "knee")) {
                cli_error(cmd, "--law: expected 'linear' or 'knee', got '%s'", law);
                return 2;
            }
        } else if ((k = study_common_opt(cmd, argc, argv, &i, &o)) != 0) {
            if (k < 0) return 2;
        } else if (cli_is(a, "--svg", NULL)) {
            if (!(svg = cli_value(cmd, argc, argv, &i))) return 2;
        } else if (a[0] == '-' && a[1]) {
            return cli_unknown(cmd, a);
        } else if (!path) {
            path = a;
        } else {
            cli_error(cmd, "one run file at a time (got '%s' and '%s'); to compare two, use edgelm compare", path, a);
            return 2;
        }
    }
    if (!path) return cli_missing(cmd, "RUN.jsonl");
    if (strcmp(o.metrics, "all") == 0) o.metrics = "cpu_auc,ram_auc,energy,wall";
    el_err err;
    el_run run;
    if (el_run_load(path, &run, &err) != 0) {
        cli_error(cmd, "%s", err.msg);
        return 1;
    }
    if (run.dropped_tail) fprintf(stderr, "edgelm fit: note: %s ends with a partial line (run killed); it was skipped\n", path);
    if (!run.complete) fprintf(stderr, "edgelm fit: note: %s is an incomplete run\n", path);
    bool knee = strcmp(law, "knee") == 0;
    char list[512];
    snprintf(list, sizeof list, "%s", o.metrics);
    cJSON *arr = cJSON_CreateArray();
    int rc = 0, n_done = 0;
    bool first = true;
    if (strcmp(o.fmt, "csv") == 0)
        printf("run,metric,unit,law,n,a,a_lo,a_hi,b,b_lo,b_hi,r2,c,c_p,quad_share,knee,knee_lo,knee_hi,plateau,plateau_lo,"
               "plateau_hi,alpha,alpha_lo,alpha_hi\n");
    char *save = NULL;
    for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        const char *metric = el_metric_name(tok);
        study_fit f;
        if (study_fit_run(&run, o.xkey, metric, knee, (int)o.boot, (uint64_t)o.seed, &f, &err) != 0) {
            cli_error(cmd, "%s", err.msg);
            rc = 1;
            continue;
        }
        n_done++;
        if (strcmp(o.fmt, "table") == 0) {
            if (!first) printf("\n");
            study_fit_print(stdout, &run, &f);
        } else if (strcmp(o.fmt, "csv") == 0) {
            const el_linear_fit *l = &f.lin;
            const el_knee_fit *k = &f.kf;
            if (knee)
                printf("%s,%s,%s,knee,%d,,,,,,,%.6g,,,,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g\n", path, metric, f.unit,
                       f.n, k->r2, k->knee.est, k->knee.lo, k->knee.hi, k->plateau.est, k->plateau.lo, k->plateau.hi,
                       k->alpha.est, k->alpha.lo, k->alpha.hi);
            else
                printf("%s,%s,%s,linear,%d,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,,,,,,,,,\n", path, metric,
                       f.unit, f.n, l->a.est, l->a.lo, l->a.hi, l->b.est, l->b.lo, l->b.hi, l->r2, l->c, l->c_p,
                       l->quad_share);
        }
        cJSON *j = study_fit_json(&f);
        if (j) {
            cJSON_AddStringToObject(j, "run", path);
            cJSON_AddBoolToObject(j, "run_complete", run.complete);
            const char *lab = el_run_energy_label(&run);
            if (strncmp(metric, "energy", 6) == 0 && lab) cJSON_AddStringToObject(j, "energy_label", lab);
            cJSON_AddItemToArray(arr, j);
        }
        if (first && svg) {
            char title[300];
            snprintf(title, sizeof title, "%s: %s vs %s", el_run_header_str(&run, "model", "desc") ? el_run_header_str(&run, "model", "desc") : path,
                     metric, o.xkey);
            char *s = study_fit_svg(&f, title, &err);
            FILE *o = s ? fopen(svg, "w") : NULL;
            if (!s) cli_error(cmd, "plot: %s", err.msg);
            else if (!o) cli_error(cmd, "%s: cannot write", svg);
            else {
                fputs(s, o);
                if (fclose(o) != 0) cli_error(cmd, "%s: write failed", svg);
            }
            if (!s || !o) rc = 1;
            free(s);
        }
        first = false;
        study_fit_free(&f);
    }
    if (strcmp(o.fmt, "json") == 0) {
        char *s = cJSON_Print(arr);
        if (s) printf("%s\n", s);
        cJSON_free(s);
    }
    cJSON_Delete(arr);
    el_run_free(&run);
    return n_done == 0 ? 1 : rc;
}
