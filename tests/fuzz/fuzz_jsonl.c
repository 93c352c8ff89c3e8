/* fuzz_jsonl.c -- the sweep result reader (JSONL run files) on arbitrary
 * bytes; then every accessor the fit, compare and report commands use. */
#include "fuzz.h"

#include <stdlib.h>

#include "edgelm/runfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    el_err err;
    el_run r;
    if (el_run_parse((const char *)data, size, "fuzz.jsonl", &r, &err) != 0) return 0;
    static const char *metrics[] = {"cpu_auc_core_s", "energy_j", "tokens", "pixels"};
    for (int i = 0; i < 4; i++) {
        double *x = NULL, *y = NULL;
        int n = 0;
        if (el_run_series(&r, "tokens", metrics[i], &x, &y, &n, &err) == 0) {
            volatile double s = 0;
            for (int k = 0; k < n; k++) s += x[k] + y[k];
            (void)s;
        }
        free(x);
        free(y);
    }
    volatile double v = el_run_header_num(&r, "model", "n_params");
    (void)v;
    volatile const char *s = el_run_header_str(&r, "settings", "mode");
    s = el_run_energy_label(&r);
    (void)s;
    el_run_free(&r);
    return 0;
}
