/* cmd_info.c -- `edgelm info MODEL [--json] [--tensors]`: what a GGUF file
 * contains: architecture, hyperparameters, vocabulary, tensor types and
 * sizes, parameter count. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "edgelm/gguf.h"

static void usage(void)
{
    printf("usage: edgelm info MODEL [--json] [--tensors]\n"
           "\n"
           "Describe a GGUF model file: architecture, name, hyperparameters (every\n"
           "<arch>.* key), vocabulary type and size, tensor count, tensors and bytes\n"
           "per type, total bytes, parameter count, GGUF version, alignment, file size.\n"
           "The file is fully validated first; any problem is reported as one line.\n"
           "\n"
           "  --tensors   list every tensor: name, type, shape, bytes, offset\n"
           "  --json      print everything as one JSON object\n"
           "  -h, --help  show this help\n");
}

/* ---- small formatting helpers ---- */

/* "292.2K", "1.1M", "7.2B" */
static void human_count(uint64_t n, char *buf, size_t sz)
{
    if (n < 1000) snprintf(buf, sz, "%" PRIu64, n);
    else if (n < 1000000) snprintf(buf, sz, "%.1fK", n / 1e3);
    else if (n < 1000000000) snprintf(buf, sz, "%.1fM", n / 1e6);
    else snprintf(buf, sz, "%.1fB", n / 1e9);
}

/* "1.13 MiB" */
static void human_bytes(uint64_t n, char *buf, size_t sz)
{
    if (n < 1024) snprintf(buf, sz, "%" PRIu64 " B", n);
    else if (n < 1024 * 1024) snprintf(buf, sz, "%.2f KiB", n / 1024.0);
    else if (n < 1024ull * 1024 * 1024) snprintf(buf, sz, "%.2f MiB", n / (1024.0 * 1024));
    else snprintf(buf, sz, "%.2f GiB", n / (1024.0 * 1024 * 1024));
}

static char *str_copy(el_gguf_str s)
{
    char *c = malloc(s.len + 1);
    if (!c) return NULL;
    memcpy(c, s.data, s.len);
    c[s.len] = 0;
    return c;
}

/* A float32 value as the shortest decimal that reads back as the same float
 * (1e-05, not 9.99999974737875e-06). */
static double f32_shortest(double v)
{
    char buf[64];
    for (int prec = 6; prec < 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if ((float)strtod(buf, NULL) == (float)v) return strtod(buf, NULL);
    }
    return v;
}

static bool is_int_type(el_gguf_vtype t)
{
    return t == EL_GGUF_UINT8 || t == EL_GGUF_INT8 || t == EL_GGUF_UINT16 || t == EL_GGUF_INT16 ||
           t == EL_GGUF_UINT32 || t == EL_GGUF_INT32 || t == EL_GGUF_UINT64 || t == EL_GGUF_INT64;
}

static bool is_signed(el_gguf_vtype t)
{
    return t == EL_GGUF_INT8 || t == EL_GGUF_INT16 || t == EL_GGUF_INT32 || t == EL_GGUF_INT64;
}

/* A scalar (or array summary) as text for the plain listing. */
static void value_text(const el_gguf_kv *kv, char *buf, size_t sz)
{
    if (is_int_type(kv->type)) {
        if (is_signed(kv->type)) snprintf(buf, sz, "%" PRId64, kv->v.i64);
        else snprintf(buf, sz, "%" PRIu64, kv->v.u64);
    } else if (kv->type == EL_GGUF_FLOAT32) {
        snprintf(buf, sz, "%.9g", f32_shortest(kv->v.f64));
    } else if (kv->type == EL_GGUF_FLOAT64) {
        snprintf(buf, sz, "%.17g", kv->v.f64);
    } else if (kv->type == EL_GGUF_BOOL) {
        snprintf(buf, sz, "%s", kv->v.b ? "true" : "false");
    } else if (kv->type == EL_GGUF_STRING) {
        int n = kv->v.str.len > 200 ? 200 : (int)kv->v.str.len;
        snprintf(buf, sz, "\"%.*s\"%s", n, kv->v.str.data, kv->v.str.len > 200 ? "..." : "");
    } else {
        snprintf(buf, sz, "[%" PRIu64 " x %s]", kv->arr_n, el_gguf_vtype_name(kv->arr_type));
    }
}

/* A scalar value (or a short numeric array) as JSON. */
static cJSON *value_json(const el_gguf_kv *kv)
{
    if (is_int_type(kv->type))
        return cJSON_CreateNumber(is_signed(kv->type) ? (double)kv->v.i64 : (double)kv->v.u64);
    if (kv->type == EL_GGUF_FLOAT32) return cJSON_CreateNumber(f32_shortest(kv->v.f64));
    if (kv->type == EL_GGUF_FLOAT64) return cJSON_CreateNumber(kv->v.f64);
    if (kv->type == EL_GGUF_BOOL) return cJSON_CreateBool(kv->v.b);
    if (kv->type == EL_GGUF_STRING) {
        char *s = str_copy(kv->v.str);
        cJSON *j = cJSON_CreateString(s ? s : "");
        free(s);
        return j;
    }
    /* arrays: numbers when short and numeric, else a summary object */
    if (kv->arr_n <= 64 && (is_int_type(kv->arr_type) || kv->arr_type == EL_GGUF_FLOAT32)) {
        cJSON *a = cJSON_CreateArray();
        for (uint64_t i = 0; i < kv->arr_n; i++) {
            double v = 0;
            const uint8_t *p = kv->arr_data;
            switch (kv->arr_type) {
            case EL_GGUF_UINT8: v = p[i]; break;
            case EL_GGUF_INT8: v = (int8_t)p[i]; break;
            case EL_GGUF_UINT16: { uint16_t x; memcpy(&x, p + 2 * i, 2); v = x; break; }
            case EL_GGUF_INT16: { int16_t x; memcpy(&x, p + 2 * i, 2); v = x; break; }
            case EL_GGUF_UINT32: { uint32_t x; memcpy(&x, p + 4 * i, 4); v = x; break; }
            case EL_GGUF_INT32: { int32_t x; memcpy(&x, p + 4 * i, 4); v = x; break; }
            case EL_GGUF_FLOAT32: { float x; memcpy(&x, p + 4 * i, 4); v = f32_shortest(x); break; }
            case EL_GGUF_UINT64: { uint64_t x; memcpy(&x, p + 8 * i, 8); v = (double)x; break; }
            case EL_GGUF_INT64: { int64_t x; memcpy(&x, p + 8 * i, 8); v = (double)x; break; }
            default: break;
            }
            cJSON_AddItemToArray(a, cJSON_CreateNumber(v));
        }
        return a;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "array_of", el_gguf_vtype_name(kv->arr_type));
    cJSON_AddNumberToObject(o, "length", (double)kv->arr_n);
    return o;
}

/* ---- summary of the file ---- */

typedef struct {
    uint64_t count, bytes;
} type_stat;

typedef struct {
    char *arch;      /* NULL when absent */
    char *name;
    char *tok_model, *tok_pre;
    int64_t vocab;   /* -1 when unknown */
    bool synthetic;
    type_stat types[EL_TYPE_COUNT];
    uint64_t total_bytes, params;
} summary;

static char *find_str(const el_gguf *g, const char *key)
{
    const el_gguf_kv *kv = el_gguf_find(g, key);
    return kv && kv->type == EL_GGUF_STRING ? str_copy(kv->v.str) : NULL;
}

static void summarize(const el_gguf *g, summary *s)
{
    memset(s, 0, sizeof *s);
    s->arch = find_str(g, "general.architecture");
    s->name = find_str(g, "general.name");
    s->tok_model = find_str(g, "tokenizer.ggml.model");
    s->tok_pre = find_str(g, "tokenizer.ggml.pre");
    const el_gguf_kv *tok = el_gguf_find(g, "tokenizer.ggml.tokens");
    s->vocab = tok && tok->type == EL_GGUF_ARRAY ? (int64_t)tok->arr_n : -1;
    const el_gguf_kv *syn = el_gguf_find(g, "edgelm.synthetic");
    s->synthetic = syn && syn->type == EL_GGUF_BOOL && syn->v.b;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const el_gguf_tensor *t = &g->tensors[i];
        s->types[t->type].count++;
        s->types[t->type].bytes += t->n_bytes;
        s->total_bytes += t->n_bytes;
        s->params += t->n_elements;
    }
}

static void summary_free(summary *s)
{
    free(s->arch);
    free(s->name);
    free(s->tok_model);
    free(s->tok_pre);
}

/* Is kv one of "<arch>.*"? Returns the suffix or NULL. */
static const char *arch_suffix(const summary *s, const el_gguf_kv *kv)
{
    if (!s->arch) return NULL;
    size_t n = strlen(s->arch);
    if (strncmp(kv->key, s->arch, n) == 0 && kv->key[n] == '.') return kv->key + n + 1;
    return NULL;
}

static void shape_text(const el_gguf_tensor *t, char *buf, size_t sz)
{
    size_t p = 0;
    p += (size_t)snprintf(buf + p, sz - p, "[");
    for (uint32_t d = 0; d < t->n_dims && p < sz; d++)
        p += (size_t)snprintf(buf + p, sz - p, "%s%" PRId64, d ? ", " : "", t->ne[d]);
    if (p < sz) snprintf(buf + p, sz - p, "]");
}

static void print_text(const el_gguf *g, const summary *s, bool tensors)
{
    char a[64], b[64];
    printf("file            %s\n", g->path);
    human_bytes(g->size, a, sizeof a);
    printf("file size       %zu bytes (%s)\n", g->size, a);
    printf("gguf version    %u\n", g->version);
    printf("alignment       %" PRIu64 "\n", g->alignment);
    printf("metadata keys   %" PRIu64 "\n", g->n_kv);
    printf("architecture    %s\n", s->arch ? s->arch : "(none)");
    printf("name            %s\n", s->name ? s->name : "(none)");
    if (s->synthetic) printf("synthetic       true (random weights)\n");
    bool any = false;
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const char *suf = arch_suffix(s, &g->kv[i]);
        if (!suf) continue;
        if (!any) printf("hyperparameters\n");
        any = true;
        char v[256];
        value_text(&g->kv[i], v, sizeof v);
        printf("  %-34s %s\n", suf, v);
    }
    printf("vocabulary      %s", s->tok_model ? s->tok_model : "(none)");
    if (s->tok_pre) printf(" (pre: %s)", s->tok_pre);
    if (s->vocab >= 0) printf(", %" PRId64 " tokens", s->vocab);
    printf("\n");
    printf("tensors         %" PRIu64 "\n", g->n_tensors);
    for (int t = 0; t < EL_TYPE_COUNT; t++) {
        if (!s->types[t].count) continue;
        human_bytes(s->types[t].bytes, a, sizeof a);
        printf("  %-8s %6" PRIu64 " tensors %14" PRIu64 " bytes (%s)\n", el_type_info((uint32_t)t)->name,
               s->types[t].count, s->types[t].bytes, a);
    }
    human_bytes(s->total_bytes, a, sizeof a);
    printf("total bytes     %" PRIu64 " (%s)\n", s->total_bytes, a);
    human_count(s->params, b, sizeof b);
    printf("params          %s (%" PRIu64 ")\n", b, s->params);
    if (!tensors) return;
    printf("%-40s %-8s %-24s %12s %12s\n", "name", "type", "shape", "bytes", "offset");
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const el_gguf_tensor *t = &g->tensors[i];
        char sh[128];
        shape_text(t, sh, sizeof sh);
        printf("%-40s %-8s %-24s %12" PRIu64 " %12" PRIu64 "\n", t->name, el_type_info(t->type)->name, sh,
               t->n_bytes, t->offset);
    }
}

static int print_json(const el_gguf *g, const summary *s, bool tensors)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return -1;
    cJSON_AddStringToObject(o, "file", g->path);
    cJSON_AddNumberToObject(o, "file_size", (double)g->size);
    cJSON_AddNumberToObject(o, "version", g->version);
    cJSON_AddNumberToObject(o, "alignment", (double)g->alignment);
    cJSON_AddNumberToObject(o, "n_kv", (double)g->n_kv);
    if (s->arch) cJSON_AddStringToObject(o, "architecture", s->arch);
    else cJSON_AddNullToObject(o, "architecture");
    if (s->name) cJSON_AddStringToObject(o, "name", s->name);
    else cJSON_AddNullToObject(o, "name");
    cJSON_AddBoolToObject(o, "synthetic", s->synthetic);
    cJSON *hp = cJSON_AddObjectToObject(o, "hyperparameters");
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const char *suf = arch_suffix(s, &g->kv[i]);
        if (suf) cJSON_AddItemToObject(hp, suf, value_json(&g->kv[i]));
    }
    cJSON *voc = cJSON_AddObjectToObject(o, "vocab");
    if (s->tok_model) cJSON_AddStringToObject(voc, "model", s->tok_model);
    else cJSON_AddNullToObject(voc, "model");
    if (s->tok_pre) cJSON_AddStringToObject(voc, "pre", s->tok_pre);
    else cJSON_AddNullToObject(voc, "pre");
    if (s->vocab >= 0) cJSON_AddNumberToObject(voc, "size", (double)s->vocab);
    else cJSON_AddNullToObject(voc, "size");
    cJSON_AddNumberToObject(o, "n_tensors", (double)g->n_tensors);
    cJSON *ty = cJSON_AddObjectToObject(o, "types");
    for (int t = 0; t < EL_TYPE_COUNT; t++) {
        if (!s->types[t].count) continue;
        cJSON *e = cJSON_AddObjectToObject(ty, el_type_info((uint32_t)t)->name);
        cJSON_AddNumberToObject(e, "count", (double)s->types[t].count);
        cJSON_AddNumberToObject(e, "bytes", (double)s->types[t].bytes);
    }
    cJSON_AddNumberToObject(o, "total_bytes", (double)s->total_bytes);
    cJSON_AddNumberToObject(o, "params", (double)s->params);
    if (tensors) {
        cJSON *arr = cJSON_AddArrayToObject(o, "tensors");
        for (uint64_t i = 0; i < g->n_tensors; i++) {
            const el_gguf_tensor *t = &g->tensors[i];
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "name", t->name);
            cJSON_AddStringToObject(e, "type", el_type_info(t->type)->name);
            cJSON *sh = cJSON_AddArrayToObject(e, "shape");
            for (uint32_t d = 0; d < t->n_dims; d++) cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)t->ne[d]));
            cJSON_AddNumberToObject(e, "bytes", (double)t->n_bytes);
            cJSON_AddNumberToObject(e, "offset", (double)t->offset);
            cJSON_AddItemToArray(arr, e);
        }
    }
    char *txt = cJSON_Print(o);
    cJSON_Delete(o);
    if (!txt) return -1;
    printf("%s\n", txt);
    free(txt);
    return 0;
}

int cmd_info(int argc, char **argv)
{
    const char *cmd = argv[0];
    const char *path = NULL;
    bool json = false, tensors = false;
    for (int i = 1; i < argc; i++) {
        if (cli_is(argv[i], "-h", "--help")) {
            usage();
            return 0;
        } else if (cli_is(argv[i], "--json", NULL)) {
            json = true;
        } else if (cli_is(argv[i], "--tensors", NULL)) {
            tensors = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_unknown(cmd, argv[i]);
        } else if (path) {
            cli_error(cmd, "expected one MODEL file, got '%s' and '%s' (see 'edgelm %s --help')", path, argv[i], cmd);
            return 2;
        } else {
            path = argv[i];
        }
    }
    if (!path) return cli_missing(cmd, "MODEL file");

    el_err err;
    el_gguf *g = el_gguf_open(path, &err);
    if (!g) {
        cli_error(cmd, "%s", err.msg);
        return 1;
    }
    if (el_gguf_check_arch(g, &err)) {
        cli_error(cmd, "%s", err.msg);
        el_gguf_close(g);
        return 1;
    }
    summary s;
    summarize(g, &s);
    if (s.synthetic)
        fprintf(stderr, "WARNING: synthetic model (random weights) %s: its outputs are meaningless; "
                        "it exists to test the code paths\n", path);
    int rc = 0;
    if (json) rc = print_json(g, &s, tensors);
    else print_text(g, &s, tensors);
    if (rc) cli_error(cmd, "%s: out of memory while building JSON", path);
    summary_free(&s);
    el_gguf_close(g);
    return rc ? 1 : 0;
}
