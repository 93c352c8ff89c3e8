/* cmd_compare.c -- `edgelm compare BASE.jsonl OTHER.jsonl`: the study's
 * headline table, the percentage reduction of each cost (totals, intercept,
 * slope) and the change in throughput, each with a bootstrap CI. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "study_util.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: edgelm compare BASE.jsonl OTHER.jsonl [options]\n"
            "\n"
            "Baseline versus another model (e.g. compressed), both measured by edgelm sweep\n"
            "over the same lengths. For each cost metric: the percentage reduction of the\n"
            "total (sum over the lengths both runs measured of the mean cost), of the\n"
            "intercept a and of the slope b of the linear law; for throughput metrics the\n"
            "percentage change. Positive reduction = OTHER is cheaper. 95%% CIs from a\n"
            "bootstrap over the repeats of both runs.\n"
            "\n"
            "options:\n"
            "      --metric LIST    cost metrics (default cpu_auc,ram_auc,energy,wall)\n"
            "      --x FIELD        the size variable (default tokens)\n"
            "      --boot N         bootstrap resamples (default 2000)\n"
            "      --seed S         bootstrap seed (default 1)\n"
            "  -o, --format FMT     table (default), json or csv\n"
            "  -h, --help           this help\n");
}

static void ci_str(char *b, size_t cap, el_ci c)
{
    if (!isfinite(c.est)) snprintf(b, cap, "-");
    else snprintf(b, cap, "%+.1f%% [%+.1f, %+.1f]", c.est, c.lo, c.hi);
}


int cmd_compare(int argc, char **argv)
{
    const char *cmd = "compare";
    const char *paths[2] = {NULL, NULL};
    study_opts o = {"cpu_auc,ram_auc,energy,wall", "tokens", "table", 2000, 1};
    int np = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int k;
        if (cli_is(a, "-h", "--help")) {
            usage(stdout);
            return 0;
        } else if ((k = study_common_opt(cmd, argc, argv, &i, &o)) != 0) {
            if (k < 0) return 2;
        } else if (a[0] == '-' && a[1]) {
            return cli_unknown(cmd, a);
        } else if (np < 2) {
            paths[np++] = a;
        } else {
            cli_error(cmd, "expected exactly two run files, BASE and OTHER (a third: '%s')", a);
            return 2;
        }
    }
    if (np < 2) return cli_missing(cmd, np == 0 ? "BASE.jsonl OTHER.jsonl" : "OTHER.jsonl");
    el_err err;
    el_run runs[2];
    memset(runs, 0, sizeof runs);
    for (int k = 0; k < 2; k++) {
        if (el_run_load(paths[k], &runs[k], &err) != 0) {
            cli_error(cmd, "%s", err.msg);
            el_run_free(&runs[0]);
            return 1;
        }
        if (!runs[k].complete) fprintf(stderr, "edgelm compare: note: %s is an incomplete run\n", paths[k]);
    }
    const char *lb = el_run_energy_label(&runs[0]), *lo = el_run_energy_label(&runs[1]);
    const char *mb = el_run_header_str(&runs[0], "model", "desc"), *mo = el_run_header_str(&runs[1], "model", "desc");
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "base", paths[0]);
    cJSON_AddStringToObject(root, "other", paths[1]);
    if (mb) cJSON_AddStringToObject(root, "base_model", mb);
    if (mo) cJSON_AddStringToObject(root, "other_model", mo);
    cJSON *arr = cJSON_AddArrayToObject(root, "metrics");
    if (strcmp(o.fmt, "table") == 0) {
        printf("compare  base:  %s (%s)\n         other: %s (%s)\n", paths[0], mb ? mb : "?", paths[1], mo ? mo : "?");
        printf("reduction = 100 * (base - other) / base; positive = other is cheaper; 95%% CI in brackets\n\n");
        printf("%-18s %-8s %-26s %-26s %-26s\n", "metric", "unit", "total", "intercept a", "slope b");
    } else if (strcmp(o.fmt, "csv") == 0) {
        printf("metric,unit,kind,n_common_x,total_base,total_other,total_pct,total_lo,total_hi,a_pct,a_lo,a_hi,b_pct,"
               "b_lo,b_hi\n");
    }
    int rc = 0, n_ok = 0;
    char list[512];
    // the costs, then the throughputs
    snprintf(list, sizeof list, "%s,prefill,decode", o.metrics);
    char *save = NULL;
    for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        const char *metric = el_metric_name(tok);
        bool thr = strcmp(metric, "prefill_tps") == 0 || strcmp(metric, "decode_tps") == 0;
        study_cmp c;
        if (study_compare(&runs[0], &runs[1], o.xkey, metric, (int)o.boot, (uint64_t)o.seed, &c, &err) != 0) {
            if (thr) continue;  // e.g. decode with --gen 0
            cli_error(cmd, "%s", err.msg);
            rc = 1;
            continue;
        }
        n_ok++;
        el_ci t = c.c.total_pct;
        if (thr) {  // a change, not a reduction: +x% = faster (mean throughput over the lengths)
            t.est = -t.est;
            double l = -t.hi, h = -t.lo;
            t.lo = l;
            t.hi = h;
        }
        bool energy = strncmp(metric, "energy", 6) == 0;
        char b1[64], b2[64], b3[64];
        if (strcmp(o.fmt, "table") == 0) {
            ci_str(b1, sizeof b1, t);
            ci_str(b2, sizeof b2, c.c.intercept_pct);
            ci_str(b3, sizeof b3, c.c.slope_pct);
            if (thr) printf("%-18s %-8s %-26s (throughput change, + = faster)\n", metric, c.unit, b1);
            else printf("%-18s %-8s %-26s %-26s %-26s%s%s%s\n", metric, c.unit, b1, b2, b3, energy ? " [" : "",
                        energy ? (lb && lo && strcmp(lb, lo) ? "mixed labels" : lb ? lb : "?") : "", energy ? "]" : "");
        } else if (strcmp(o.fmt, "csv") == 0) {
            printf("%s,%s,%s,%d,%.6g,%.6g,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f\n", metric, c.unit,
                   thr ? "throughput_change" : "reduction", c.c.n_common_x, c.c.total_base, c.c.total_other, t.est, t.lo,
                   t.hi, c.c.intercept_pct.est, c.c.intercept_pct.lo, c.c.intercept_pct.hi, c.c.slope_pct.est,
                   c.c.slope_pct.lo, c.c.slope_pct.hi);
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "metric", metric);
        cJSON_AddStringToObject(o, "unit", c.unit);
        cJSON_AddStringToObject(o, "kind", thr ? "throughput_change_pct" : "reduction_pct");
        cJSON_AddNumberToObject(o, "n_common_x", c.c.n_common_x);
        cJSON_AddNumberToObject(o, "total_base", c.c.total_base);
        cJSON_AddNumberToObject(o, "total_other", c.c.total_other);
        el_json_add_ci(o, "total", t.est, t.lo, t.hi);
        if (!thr) {
            cJSON_AddNumberToObject(o, "a_base", c.c.a_base);
            cJSON_AddNumberToObject(o, "a_other", c.c.a_other);
            cJSON_AddNumberToObject(o, "b_base", c.c.b_base);
            cJSON_AddNumberToObject(o, "b_other", c.c.b_other);
            el_json_add_ci(o, "intercept", c.c.intercept_pct.est, c.c.intercept_pct.lo, c.c.intercept_pct.hi);
            el_json_add_ci(o, "slope", c.c.slope_pct.est, c.c.slope_pct.lo, c.c.slope_pct.hi);
        }
        if (energy) {
            if (lb) cJSON_AddStringToObject(o, "energy_label_base", lb);
            if (lo) cJSON_AddStringToObject(o, "energy_label_other", lo);
        }
        cJSON_AddItemToArray(arr, o);
    }
    if (strcmp(o.fmt, "json") == 0) {
        char *s = cJSON_Print(root);
        if (s) printf("%s\n", s);
        cJSON_free(s);
    } else if (strcmp(o.fmt, "table") == 0 && lb) {
        printf("\nenergy: base %s, other %s\n", lb, lo ? lo : "?");
    }
    cJSON_Delete(root);
    el_run_free(&runs[0]);
    el_run_free(&runs[1]);
    return n_ok == 0 ? 1 : rc;
}
