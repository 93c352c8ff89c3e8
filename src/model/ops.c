/* ops.c -- reference matrix products: each thread takes a range of output
 * rows, decodes one weight row at a time into its buffer (F32 rows are used
 * in place) and reuses it for every row of the batch. */
#include "ops.h"

#include <stdlib.h>

#include "edgelm/types.h"

int el_ops_init(el_ops *o, el_threads *tp, int64_t max_row, el_err *err)
{
    o->tp = tp;
    o->nth = el_threads_count(tp);
    o->max_row = max_row;
    o->rowbuf = el_calloc((size_t)o->nth, sizeof *o->rowbuf, err);
    if (!o->rowbuf) return -1;
    for (int t = 0; t < o->nth; t++)
        if (!(o->rowbuf[t] = el_malloc((size_t)max_row * sizeof(float), err))) return -1;
    return 0;
}

void el_ops_free(el_ops *o)
{
    if (o->rowbuf)
        for (int t = 0; t < o->nth; t++) free(o->rowbuf[t]);
    free(o->rowbuf);
    o->rowbuf = NULL;
}

float ops_dot_f32(const float *a, const float *b, int n)
{
    float acc[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) acc[k] += a[i + k] * b[i + k];
    for (; i < n; i++) acc[0] += a[i] * b[i];
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

typedef struct mm_job {
    el_ops *o;
    const el_gguf_tensor *W;
    const float *X;
    float *Y;
    int n;
    size_t row_bytes;
} mm_job;

static void mm_rows(void *arg, int64_t b, int64_t e, int ith)
{
    mm_job *j = arg;
    int64_t in = j->W->ne[0], out = j->W->ne[1];
    for (int64_t r = b; r < e; r++) {
        const void *src = (const uint8_t *)j->W->data + (size_t)r * j->row_bytes;
        const float *w;
        if (j->W->type == EL_TYPE_F32) {
            w = src;
        } else {
            el_dequantize_row(j->W->type, src, j->o->rowbuf[ith], in);
            w = j->o->rowbuf[ith];
        }
        for (int i = 0; i < j->n; i++) j->Y[(size_t)i * out + r] = ops_dot_f32(j->X + (size_t)i * in, w, (int)in);
    }
}

void el_matmul_tensor(el_ops *o, const el_gguf_tensor *W, const float *X, int n, float *Y)
{
    mm_job j = {o, W, X, Y, n, el_row_size(W->type, W->ne[0])};
    int64_t rows = W->ne[1];
    int64_t chunk = rows / ((int64_t)o->nth * 8);
    if (chunk < 1) chunk = 1;
    el_parallel_for(o->tp, rows, chunk, mm_rows, &j);
}
