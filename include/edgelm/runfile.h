/* runfile.h -- sweep result files (JSONL): appending records safely and
 * reading them back for fits, comparisons and reports.
 *
 * A run file holds one JSON object per line (schema: docs/sweep-jsonl.md):
 *   {"type":"header", ...}        machine, model, settings (first line)
 *   {"type":"measurement", ...}   one prompt measured in its own window
 *   {"type":"energy", "id":K, ...} energy of measurement K known only later
 *                                 (an external meter's log is read at the end)
 *   {"type":"end", "complete":true|false, ...}  last line of a finished run
 * Every record is written with one write() and fsync'd, so a run killed at any
 * moment leaves complete lines that are all valid; the reader drops a partial
 * last line (and says so) and treats a missing end record as an incomplete
 * run. */
#ifndef EDGELM_RUNFILE_H
#define EDGELM_RUNFILE_H

#include <stdbool.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Add key: v to a cJSON object (void*), or key: null when v is NaN or
 * infinite (JSON has no NaN). */
void el_json_add_num(void *obj, const char *key, double v);
/* Add key: {"est":..,"lo":..,"hi":..} (nulls where not finite). */
void el_json_add_ci(void *obj, const char *key, double est, double lo, double hi);

/* Append one record (a cJSON object, passed as void*) as a single line:
 * one write(), then fsync(fd). */
int el_jsonl_append(int fd, const void *record, el_err *err);

typedef struct el_run {
    char name[512];       /* path, for messages */
    void *header;         /* cJSON object, or NULL when the file had none */
    void **meas;          /* cJSON measurement objects, in file order */
    int n_meas;
    void *end;            /* the end record, or NULL (run killed) */
    bool complete;        /* end record present and says complete */
    bool dropped_tail;    /* a partial last line was dropped */
    int n_lines;
} el_run;

/* Parse a run file's text. Malformed complete lines are errors naming the
 * line; unknown record types are skipped. Bounded: at most 10 million lines,
 * each at most 1 MiB. */
int el_run_parse(const char *text, size_t len, const char *name, el_run *out, el_err *err);
int el_run_load(const char *path, el_run *out, el_err *err);
void el_run_free(el_run *r);

/* Canonical metric name for a user's spelling: "cpu_auc" -> "cpu_auc_core_s",
 * "ram_auc" -> "ram_auc_mb_s", "energy" -> "energy_j", "prefill" ->
 * "prefill_tps", "decode" -> "decode_tps", "ttft" -> "ttft_s"; other names
 * are returned unchanged. */
const char *el_metric_name(const char *spelling);
/* The unit of a canonical metric, for labels ("core*s", "MB*s", "J", ...). */
const char *el_metric_unit(const char *metric);
/* x and y of every measurement where both are finite numbers; malloc'd
 * arrays (free them); *n may be 0. Error when no measurement has the metric
 * at all (naming the metrics that exist). */
int el_run_series(const el_run *r, const char *xkey, const char *metric, double **x, double **y,
                  int *n, el_err *err);
/* A number / string from the header: section NULL for top level, else a
 * nested object ("model", "machine", "settings"). NAN / NULL when absent. */
double el_run_header_num(const el_run *r, const char *section, const char *key);
const char *el_run_header_str(const el_run *r, const char *section, const char *key);
/* The energy label of the run ("measured", "estimated", or NULL). */
const char *el_run_energy_label(const el_run *r);

#ifdef __cplusplus
}
#endif
#endif
