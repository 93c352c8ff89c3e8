/* quantize.c -- re-encode a GGUF into one of llama.cpp's file types: each
 * tensor gets the type llama.cpp's mix gives it (quantmix.c), every row is
 * dequantised to f32 and quantised with the reference quantiser; block
 * layouts are ggml's, so llama.cpp loads the result. */
#include "edgelm/tools.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct quant_job {
    const el_gguf_tensor *src;
    el_type dst_type;
    uint8_t *dst;
    size_t src_row, dst_row;
    float **scratch;   /* one row of floats per thread */
    int failed;
} quant_job;

static void quantize_rows(void *arg, int64_t b, int64_t e, int ith)
{
    quant_job *j = arg;
    float *row = j->scratch[ith];
    int64_t n = j->src->ne[0];
    for (int64_t r = b; r < e; r++) {
        const uint8_t *s = (const uint8_t *)j->src->data + (size_t)r * j->src_row;
        if (el_dequantize_row(j->src->type, s, row, n) ||
            el_quantize_row(j->dst_type, row, j->dst + (size_t)r * j->dst_row, n))
            j->failed = 1;
    }
}

int el_quantize_file(const char *in_path, const char *out_path, el_ftype ft, el_threads *tp, bool quiet,
                     el_err *err)
{
    el_gguf *g = el_gguf_open(in_path, err);
    if (!g) return -1;
    int rc = -1, nth = el_threads_count(tp);
    el_gguf_writer *w = NULL;
    void **bufs = calloc(g->n_tensors ? g->n_tensors : 1, sizeof *bufs);
    float **scratch = calloc((size_t)nth, sizeof *scratch);
    if (!bufs || !scratch) {
        el_errf(err, "quantize: out of memory");
        goto done;
    }
    char *arch = NULL;
    int n_layer = 0;
    if (el_gguf_get_str(g, "general.architecture", &arch, err) == 0) {
        char key[128];
        snprintf(key, sizeof key, "%s.block_count", arch);
        uint32_t v;
        if (el_gguf_get_u32(g, key, &v, err) == 0) n_layer = (int)v;
        free(arch);
    }
    bool has_output = el_gguf_find_tensor(g, "output.weight") != NULL;
    int64_t max_row = 1;
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].ne[0] > max_row) max_row = g->tensors[i].ne[0];
    for (int t = 0; t < nth; t++)
        if (!(scratch[t] = malloc((size_t)max_row * sizeof(float)))) {
            el_errf(err, "quantize: out of memory");
            goto done;
        }

    w = el_gguf_writer_new(3, err);
    if (!w) goto done;
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const char *k = g->kv[i].key;
        if (strcmp(k, "general.file_type") == 0 || strcmp(k, "general.quantization_version") == 0) continue;
        if (el_gguf_writer_copy_kv(w, g, &g->kv[i], err)) goto done;
    }
    if (el_gguf_writer_set_u32(w, "general.quantization_version", 2, err) ||
        el_gguf_writer_set_u32(w, "general.file_type", (uint32_t)ft, err))
        goto done;

    size_t in_total = 0, out_total = 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const el_gguf_tensor *t = &g->tensors[i];
        int layer = 0;
        sscanf(t->name, "blk.%d.", &layer);
        el_type dt = el_ftype_tensor_type(ft, t->name, t->n_dims, t->ne, layer, n_layer, has_output);
        const el_type_traits *st = el_type_info(t->type);
        if (dt != t->type && (!st || !st->can_dequantize)) {
            el_errf(err, "%s: tensor '%s' has type %s, which edgelm cannot convert", in_path, t->name,
                    st ? st->name : "?");
            goto done;
        }
        const void *data = t->data;
        size_t out_bytes = t->n_bytes;
        if (dt != t->type) {
            int64_t rows = (int64_t)(t->n_elements / (uint64_t)t->ne[0]);
            quant_job j = {t, dt, NULL, el_row_size(t->type, t->ne[0]), el_row_size(dt, t->ne[0]), scratch, 0};
            out_bytes = j.dst_row * (size_t)rows;
            if (!(bufs[i] = j.dst = malloc(out_bytes ? out_bytes : 1))) {
                el_errf(err, "quantize: cannot allocate %zu bytes for tensor '%s'", out_bytes, t->name);
                goto done;
            }
            el_parallel_for(tp, rows, 0, quantize_rows, &j);
            if (j.failed) {
                el_errf(err, "quantize: tensor '%s': cannot convert %s to %s", t->name, st->name, el_type_info(dt)->name);
                goto done;
            }
            data = j.dst;
        }
        in_total += t->n_bytes, out_total += out_bytes;
        if (!quiet)
            fprintf(stderr, "[%4llu/%4llu] %-32s %-6s -> %-6s %8.2f MiB -> %8.2f MiB\n", (unsigned long long)i + 1,
                    (unsigned long long)g->n_tensors, t->name, st ? st->name : "?", el_type_info(dt)->name,
                    (double)t->n_bytes / (1 << 20), (double)out_bytes / (1 << 20));
        if (el_gguf_writer_add_tensor(w, t->name, dt, t->n_dims, t->ne, data, err)) goto done;
    }
    if (el_gguf_writer_write(w, out_path, err)) goto done;
    if (!quiet)
        fprintf(stderr, "quantize: %s: %.2f MiB -> %s (%s): %.2f MiB\n", in_path, (double)in_total / (1 << 20),
                out_path, el_ftype_name(ft), (double)out_total / (1 << 20));
    rc = 0;
done:
    el_gguf_writer_free(w);
    if (bufs)
        for (uint64_t i = 0; i < g->n_tensors; i++) free(bufs[i]);
    free(bufs);
    if (scratch)
        for (int t = 0; t < nth; t++) free(scratch[t]);
    free(scratch);
    el_gguf_close(g);
    return rc;
}
