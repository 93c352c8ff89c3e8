/* runfile.c -- JSONL sweep results: safe appends and a bounded reader. */
#include "edgelm/runfile.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINES 10000000
#define MAX_LINE (1u << 20)

void el_json_add_num(void *obj, const char *key, double v)
{
    if (!obj) return;
    if (isfinite(v)) cJSON_AddNumberToObject((cJSON *)obj, key, v);
    else cJSON_AddNullToObject((cJSON *)obj, key);
}

void el_json_add_ci(void *obj, const char *key, double est, double lo, double hi)
{
    cJSON *c = obj ? cJSON_AddObjectToObject((cJSON *)obj, key) : NULL;
    if (!c) return;
    el_json_add_num(c, "est", est);
    el_json_add_num(c, "lo", lo);
    el_json_add_num(c, "hi", hi);
}

int el_jsonl_append(int fd, const void *record, el_err *err)
{
    char *s = cJSON_PrintUnformatted((const cJSON *)record);
    if (!s) return el_errf(err, "out of memory formatting a record");
    size_t n = strlen(s);
    char *line = malloc(n + 2);
    if (!line) {
        cJSON_free(s);
        return el_errf(err, "out of memory formatting a record");
    }
    memcpy(line, s, n);
    line[n] = '\n';
    cJSON_free(s);
    // one write() of the whole line: with O_APPEND the line lands whole or,
    // if the process dies inside the call, not past what the kernel took
    size_t off = 0;
    int rc = 0;
    while (off < n + 1) {
        ssize_t w = write(fd, line + off, n + 1 - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            rc = el_errf(err, "cannot append a record: %s", strerror(errno));
            break;
        }
        off += (size_t)w;
    }
    free(line);
    if (rc == 0 && fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
        rc = el_errf(err, "cannot flush a record to disk: %s", strerror(errno));
    return rc;
}

void el_run_free(el_run *r)
{
    if (!r) return;
    cJSON_Delete((cJSON *)r->header);
    for (int i = 0; i < r->n_meas; i++) cJSON_Delete((cJSON *)r->meas[i]);
    free(r->meas);
    cJSON_Delete((cJSON *)r->end);
    memset(r, 0, sizeof *r);
}

static cJSON *find_meas(el_run *r, double id)
{
    for (int i = r->n_meas - 1; i >= 0; i--) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive((cJSON *)r->meas[i], "id");
        if (cJSON_IsNumber(v) && v->valuedouble == id) return (cJSON *)r->meas[i];
    }
    return NULL;
}

/* energy record: copy its fields (except type and id) into the measurement */
static void merge_energy(el_run *r, cJSON *rec)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(rec, "id");
    if (!cJSON_IsNumber(id)) return;
    cJSON *m = find_meas(r, id->valuedouble);
    if (!m) return;
    for (cJSON *it = rec->child; it; it = it->next) {
        if (!it->string || strcmp(it->string, "type") == 0 || strcmp(it->string, "id") == 0) continue;
        cJSON *dup = cJSON_Duplicate(it, 1);
        if (!dup) continue;
        if (cJSON_GetObjectItemCaseSensitive(m, it->string)) cJSON_ReplaceItemInObjectCaseSensitive(m, it->string, dup);
        else cJSON_AddItemToObject(m, it->string, dup);
    }
}

int el_run_parse(const char *text, size_t len, const char *name, el_run *out, el_err *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", name ? name : "(run)");
    size_t pos = 0;
    int line_no = 0, cap = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t ll = end - pos;
        line_no++;
        if (line_no > MAX_LINES) {
            el_run_free(out);
            return el_errf(err, "%s: more than %d lines", out->name, MAX_LINES);
        }
        const char *line = text + pos;
        pos = nl ? end + 1 : len;
        // blank lines are allowed
        size_t k = 0;
        while (k < ll && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r')) k++;
        if (k == ll) continue;
        if (ll > MAX_LINE) {
            el_run_free(out);
            return el_errf(err, "%s:%d: line longer than %u bytes", name, line_no, MAX_LINE);
        }
        cJSON *rec = cJSON_ParseWithLength(line, ll);
        if (!rec || !cJSON_IsObject(rec)) {
            cJSON_Delete(rec);
            if (!nl) {  // a partial last line: the writer was killed mid-record
                out->dropped_tail = true;
                break;
            }
            el_run_free(out);
            return el_errf(err, "%s:%d: not a JSON object", name, line_no);
        }
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(rec, "type");
        if (!cJSON_IsString(type)) {
            cJSON_Delete(rec);
            el_run_free(out);
            return el_errf(err, "%s:%d: record without a \"type\"", name, line_no);
        }
        if (out->end) {  // records after the end: a second run appended
            cJSON_Delete((cJSON *)out->end);
            out->end = NULL;
        }
        if (strcmp(type->valuestring, "header") == 0) {
            if (out->header) {
                cJSON_Delete(rec);
                el_run_free(out);
                return el_errf(err, "%s:%d: a second header record (two runs in one file?)", name, line_no);
            }
            out->header = rec;
        } else if (strcmp(type->valuestring, "measurement") == 0) {
            if (out->n_meas == cap) {
                int nc = cap ? cap * 2 : 64;
                void **nm = realloc(out->meas, (size_t)nc * sizeof *nm);
                if (!nm) {
                    cJSON_Delete(rec);
                    el_run_free(out);
                    return el_errf(err, "%s: out of memory", name);
                }
                out->meas = nm;
                cap = nc;
            }
            out->meas[out->n_meas++] = rec;
        } else if (strcmp(type->valuestring, "energy") == 0) {
            merge_energy(out, rec);
            cJSON_Delete(rec);
        } else if (strcmp(type->valuestring, "end") == 0) {
            out->end = rec;
        } else {
            cJSON_Delete(rec);  // unknown record types: newer writers
        }
    }
    out->n_lines = line_no;
    if (!out->header && out->n_meas == 0) {
        el_run_free(out);
        return el_errf(err, "%s: no header and no measurement records (not an edgelm sweep file?)", name);
    }
    const cJSON *c = out->end ? cJSON_GetObjectItemCaseSensitive((cJSON *)out->end, "complete") : NULL;
    out->complete = cJSON_IsTrue(c);
    return 0;
}

int el_run_load(const char *path, el_run *out, el_err *err)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return el_errf(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return el_errf(err, "%s: not a regular file", path);
    }
    if ((unsigned long long)st.st_size > (1ull << 34)) {
        fclose(f);
        return el_errf(err, "%s: %lld bytes is too large for a run file", path, (long long)st.st_size);
    }
    size_t n = (size_t)st.st_size;
    char *buf = malloc(n + 1);
    if (!buf) {
        fclose(f);
        return el_errf(err, "%s: out of memory reading %zu bytes", path, n);
    }
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    buf[got] = 0;
    int rc = el_run_parse(buf, got, path, out, err);
    free(buf);
    return rc;
}

static const struct {
    const char *alias, *name, *unit;
} metrics[] = {
    {"cpu_auc", "cpu_auc_core_s", "core*s"},  {"cpu", "cpu_auc_core_s", "core*s"},
    {"cpu_pct", "cpu_auc_pct_s", "%*s"},      {"ram_auc", "ram_auc_mb_s", "MB*s"},
    {"ram", "ram_auc_mb_s", "MB*s"},          {"ram_pct", "ram_auc_pct_s", "%*s"},
    {"ram_resident", "ram_resident_mb_s", "MB*s"},
    {"energy", "energy_j", "J"},              {"energy_above_idle", "energy_above_idle_j", "J"},
    {"prefill", "prefill_tps", "tokens/s"},   {"decode", "decode_tps", "tokens/s"},
    {"ttft", "ttft_s", "s"},                  {"wall", "wall_s", "s"},
    {"peak_rss", "peak_rss_mb", "MB"},        {"cpu_trapz", "cpu_trapz_core_s", "core*s"},
    {"load", "load_s", "s"},
};

const char *el_metric_name(const char *s)
{
    for (size_t i = 0; i < sizeof metrics / sizeof metrics[0]; i++)
        if (strcmp(s, metrics[i].alias) == 0) return metrics[i].name;
    return s;
}

const char *el_metric_unit(const char *m)
{
    for (size_t i = 0; i < sizeof metrics / sizeof metrics[0]; i++)
        if (strcmp(m, metrics[i].name) == 0) return metrics[i].unit;
    return "";
}

int el_run_series(const el_run *r, const char *xkey, const char *metric, double **x, double **y, int *n,
                  el_err *err)
{
    *x = *y = NULL;
    *n = 0;
    int have = 0;
    for (int i = 0; i < r->n_meas; i++)
        if (cJSON_GetObjectItemCaseSensitive((cJSON *)r->meas[i], metric)) have++;
    if (!have) {
        char names[512] = "";
        if (r->n_meas) {
            size_t o = 0;
            for (const cJSON *it = ((cJSON *)r->meas[0])->child; it && o < sizeof names - 40; it = it->next)
                if (it->string && cJSON_IsNumber(it))
                    o += (size_t)snprintf(names + o, sizeof names - o, "%s%s", o ? ", " : "", it->string);
        }
        return el_errf(err, "%s: no measurement has the metric '%s'%s%s", r->name, metric,
                       names[0] ? "; numeric fields are: " : "", names);
    }
    *x = malloc(sizeof **x * (size_t)(r->n_meas + 1));
    *y = malloc(sizeof **y * (size_t)(r->n_meas + 1));
    if (!*x || !*y) {
        free(*x);
        free(*y);
        *x = *y = NULL;
        return el_errf(err, "out of memory");
    }
    for (int i = 0; i < r->n_meas; i++) {
        const cJSON *xv = cJSON_GetObjectItemCaseSensitive((cJSON *)r->meas[i], xkey);
        const cJSON *yv = cJSON_GetObjectItemCaseSensitive((cJSON *)r->meas[i], metric);
        if (!cJSON_IsNumber(xv) || !cJSON_IsNumber(yv)) continue;
        if (!isfinite(xv->valuedouble) || !isfinite(yv->valuedouble)) continue;
        (*x)[*n] = xv->valuedouble;
        (*y)[*n] = yv->valuedouble;
        (*n)++;
    }
    return 0;
}

static const cJSON *header_obj(const el_run *r, const char *section)
{
    const cJSON *h = (const cJSON *)r->header;
    if (!h) return NULL;
    return section ? cJSON_GetObjectItemCaseSensitive(h, section) : h;
}

double el_run_header_num(const el_run *r, const char *section, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(header_obj(r, section), key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

const char *el_run_header_str(const el_run *r, const char *section, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(header_obj(r, section), key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *el_run_energy_label(const el_run *r)
{
    const char *l = el_run_header_str(r, "energy", "label");
    if (l) return l;
    for (int i = 0; i < r->n_meas; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive((cJSON *)r->meas[i], "energy_label");
        if (cJSON_IsString(v)) return v->valuestring;
    }
    return NULL;
}
