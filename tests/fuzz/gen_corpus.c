/* gen_corpus.c -- write the GGUF fuzz seed corpus (small files, < 8 KB):
 * valid models (v2 and v3, default and custom alignment, every metadata value
 * type including nested arrays, tensors of many element types) and every
 * hostile case of gguf_cases.h.
 *
 *   gen_corpus [DIR]     (default: tests/fuzz/corpus/gguf in the source tree) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgelm/gguf.h"
#include "fuzz/gguf_cases.h"

#ifndef EL_SOURCE_DIR
#define EL_SOURCE_DIR "."
#endif

static int write_bytes(const char *dir, const char *name, const gc_buf *b)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || (b->n && fwrite(b->p, 1, b->n, f) != b->n) || fclose(f) != 0) {
        fprintf(stderr, "gen_corpus: cannot write %s\n", path);
        return -1;
    }
    printf("%6zu  %s\n", b->n, name);
    return 0;
}

/* nested array value: [[u8 x 2], [string x 1]] */
static size_t nested_value(uint8_t *p)
{
    gc_buf b = {0};
    gc_u32(&b, GC_ARR);
    gc_u64(&b, 2);
    gc_u32(&b, GC_U8);
    gc_u64(&b, 2);
    uint8_t two[2] = {7, 9};
    gc_put(&b, two, 2);
    gc_u32(&b, GC_STR);
    gc_u64(&b, 1);
    gc_str(&b, "nested");
    memcpy(p, b.p, b.n);
    size_t n = b.n;
    free(b.p);
    return n;
}

/* A file with every value type and tensors of many element types. */
static int write_types_file(const char *dir, const char *name, uint32_t version, uint32_t alignment)
{
    el_err err;
    el_gguf_writer *w = el_gguf_writer_new(version, &err);
    if (!w) return -1;
    int rc = 0;
    rc |= el_gguf_writer_set_str(w, "general.architecture", "corpus", &err);
    if (alignment) rc |= el_gguf_writer_set_u32(w, "general.alignment", alignment, &err);
    uint8_t u8 = 200;
    int8_t i8 = -100;
    uint16_t u16 = 60000;
    int16_t i16 = -30000;
    int64_t i64 = -5;
    double f64 = 3.5;
    rc |= el_gguf_writer_set_raw(w, "v.u8", EL_GGUF_UINT8, &u8, 1, &err);
    rc |= el_gguf_writer_set_raw(w, "v.i8", EL_GGUF_INT8, &i8, 1, &err);
    rc |= el_gguf_writer_set_raw(w, "v.u16", EL_GGUF_UINT16, &u16, 2, &err);
    rc |= el_gguf_writer_set_raw(w, "v.i16", EL_GGUF_INT16, &i16, 2, &err);
    rc |= el_gguf_writer_set_u32(w, "v.u32", 123456, &err);
    rc |= el_gguf_writer_set_i32(w, "v.i32", -123456, &err);
    rc |= el_gguf_writer_set_f32(w, "v.f32", 0.5f, &err);
    rc |= el_gguf_writer_set_bool(w, "v.bool", true, &err);
    rc |= el_gguf_writer_set_str(w, "v.str", "hello", &err);
    rc |= el_gguf_writer_set_u64(w, "v.u64", 1ull << 40, &err);
    rc |= el_gguf_writer_set_raw(w, "v.i64", EL_GGUF_INT64, &i64, 8, &err);
    rc |= el_gguf_writer_set_raw(w, "v.f64", EL_GGUF_FLOAT64, &f64, 8, &err);
    int32_t ai[3] = {1, -2, 3};
    rc |= el_gguf_writer_set_arr(w, "v.arr_i32", EL_GGUF_INT32, ai, 3, &err);
    const char *strs[3] = {"a", "bc", ""};
    rc |= el_gguf_writer_set_str_arr(w, "v.arr_str", strs, NULL, 3, &err);
    uint8_t nested[128];
    size_t nl = nested_value(nested);
    rc |= el_gguf_writer_set_raw(w, "v.nested", EL_GGUF_ARRAY, nested, nl, &err);

    float src[256];
    for (int i = 0; i < 256; i++) src[i] = sinf(0.1f * (float)i) * (1 + (float)(i % 5));
    el_type types[] = {EL_TYPE_F32, EL_TYPE_F16, EL_TYPE_BF16, EL_TYPE_Q4_0, EL_TYPE_Q4_1, EL_TYPE_Q5_0,
                       EL_TYPE_Q5_1, EL_TYPE_Q8_0, EL_TYPE_Q2_K, EL_TYPE_Q3_K, EL_TYPE_Q4_K, EL_TYPE_Q5_K,
                       EL_TYPE_Q6_K, EL_TYPE_Q8_K};
    enum { NT = sizeof types / sizeof types[0] };
    uint8_t *data[NT] = {0};
    for (int k = 0; k < NT && rc == 0; k++) {
        size_t sz = el_row_size(types[k], 256);
        data[k] = calloc(1, sz);
        if (!data[k]) { rc = -1; break; }
        if (el_quantize_row(types[k], src, data[k], 256))
            for (size_t j = 0; j < sz; j++) data[k][j] = (uint8_t)(j * 37 + 11); /* no quantiser: fixed bytes */
        char tname[32];
        snprintf(tname, sizeof tname, "t.%s", el_type_info(types[k])->name);
        int64_t ne[2] = {256, 1};
        rc |= el_gguf_writer_add_tensor(w, tname, types[k], k % 2 ? 2 : 1, ne, data[k], &err);
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (rc == 0) rc = el_gguf_writer_write(w, path, &err);
    if (rc) fprintf(stderr, "gen_corpus: %s: %s\n", name, err.msg);
    else printf("%6s  %s\n", "(w)", name);
    for (int k = 0; k < NT; k++) free(data[k]);
    el_gguf_writer_free(w);
    return rc ? -1 : 0;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : EL_SOURCE_DIR "/tests/fuzz/corpus/gguf";
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        printf("usage: gen_corpus [DIR]\nwrite the GGUF fuzz seed corpus into DIR (default %s)\n",
               EL_SOURCE_DIR "/tests/fuzz/corpus/gguf");
        return 0;
    }
    int rc = 0;
    gc_opts v[3] = {gc_default(), gc_default(), gc_default()};
    v[1].version = 2;
    v[2].alignment = 64;
    v[2].out_off = 192;
    const char *vn[3] = {"valid_llama_v3.gguf", "valid_llama_v2.gguf", "valid_llama_align64.gguf"};
    for (int i = 0; i < 3; i++) {
        gc_buf b = {0};
        gc_llama(&b, v[i]);
        rc |= write_bytes(dir, vn[i], &b);
        free(b.p);
    }
    rc |= write_types_file(dir, "valid_types_v3.gguf", 3, 0);
    rc |= write_types_file(dir, "valid_types_v2_align16.gguf", 2, 16);
    /* alignment 1: tensor data at odd addresses */
    rc |= write_types_file(dir, "valid_types_v3_align1.gguf", 3, 1);
    for (size_t i = 0; i < GC_N_HOSTILE; i++) {
        gc_buf b = {0};
        gc_hostile[i].build(&b);
        if (b.n == 0) {  // the empty input is replayed by replay.c itself
            free(b.p);
            continue;
        }
        char name[128];
        snprintf(name, sizeof name, "hostile_%s.gguf", gc_hostile[i].name);
        rc |= write_bytes(dir, name, &b);
        free(b.p);
    }
    return rc ? 1 : 0;
}
