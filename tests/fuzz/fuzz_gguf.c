/* fuzz_gguf.c -- the GGUF reader on arbitrary bytes: header, metadata,
 * tensor table and data bounds; then touch everything it returned
 * (strings, arrays, first row of each dequantisable tensor) so that any
 * unchecked bound shows up under ASan. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "edgelm/gguf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    el_err err;
    el_gguf *g = el_gguf_open_memory(data, size, "fuzz.gguf", &err);
    if (!g) return 0;
    volatile uint64_t sink = 0;
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const el_gguf_kv *kv = &g->kv[i];
        sink += strlen(kv->key);
        if (kv->type == EL_GGUF_STRING && kv->v.str.len) sink += (uint8_t)kv->v.str.data[kv->v.str.len - 1];
        if (kv->type == EL_GGUF_ARRAY && kv->arr_str)
            for (uint64_t j = 0; j < kv->arr_n; j++)
                if (kv->arr_str[j].len) sink += (uint8_t)kv->arr_str[j].data[kv->arr_str[j].len - 1];
    }
    float row[4096];
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const el_gguf_tensor *t = &g->tensors[i];
        const el_type_traits *tr = el_type_info(t->type);
        if (t->n_bytes) sink += ((const uint8_t *)t->data)[t->n_bytes - 1];
        if (tr && tr->can_dequantize && t->ne[0] <= 4096) el_dequantize_row(t->type, t->data, row, t->ne[0]);
    }
    (void)sink;
    el_gguf_close(g);
    return 0;
}
