/* test_gguf.c -- GGUF reader and writer.
 *
 * Reader: stories260K.gguf against its known hyperparameters (vocab 512,
 * dim 64, 5 layers, 8 heads, 4 kv heads, ffn 172, 48 tensors, v3) and
 * against a hand parse of its header. Writer: read -> write -> read of every
 * reference GGUF keeps every key/type/value byte and every tensor byte (and
 * the whole file when the input used the same layout); every metadata value
 * type (nested arrays included), version 2, custom alignments, refusals, and
 * the temporary-file-then-rename behaviour. */
#include "testutil.h"

#include <dirent.h>
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "edgelm/gguf.h"

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* ---- reader on stories260K ---- */

static void test_stories_reader(void **state)
{
    (void)state;
    char *path = tu_shared("data/models/stories260K.gguf");
    el_err err;
    el_gguf *g = el_gguf_open(path, &err);
    if (!g) fail_msg("open: %s", err.msg);

    /* header against a hand parse of the first 24 bytes */
    size_t len;
    char *raw = tu_read_file(path, &len);
    assert_non_null(raw);
    assert_int_equal(len, g->size);
    assert_memory_equal(raw, "GGUF", 4);
    uint32_t ver;
    memcpy(&ver, raw + 4, 4);
    printf("stories260K: version %u (hand parse %u), %llu tensors (hand %llu), %llu kv (hand %llu)\n", g->version, ver,
           (unsigned long long)g->n_tensors, (unsigned long long)rd64((uint8_t *)raw + 8),
           (unsigned long long)g->n_kv, (unsigned long long)rd64((uint8_t *)raw + 16));
    assert_int_equal(g->version, 3);
    assert_int_equal(ver, 3);
    assert_int_equal(g->n_tensors, 48);
    assert_int_equal(rd64((uint8_t *)raw + 8), 48);
    assert_int_equal(rd64((uint8_t *)raw + 16), g->n_kv);
    assert_int_equal(g->alignment, 32);
    assert_int_equal(g->data_offset % 32, 0);

    char *arch;
    assert_int_equal(el_gguf_get_str(g, "general.architecture", &arch, &err), 0);
    assert_string_equal(arch, "llama");
    free(arch);
    struct { const char *key; uint32_t want; } hp[] = {
        {"llama.embedding_length", 64}, {"llama.block_count", 5}, {"llama.attention.head_count", 8},
        {"llama.attention.head_count_kv", 4}, {"llama.feed_forward_length", 172},
    };
    for (size_t i = 0; i < sizeof hp / sizeof hp[0]; i++) {
        uint32_t v = 0;
        if (el_gguf_get_u32(g, hp[i].key, &v, &err)) fail_msg("%s", err.msg);
        printf("  %-32s %u (expected %u)\n", hp[i].key, v, hp[i].want);
        assert_int_equal(v, hp[i].want);
    }
    float eps;
    assert_int_equal(el_gguf_get_f32(g, "llama.attention.layer_norm_rms_epsilon", &eps, &err), 0);
    assert_true(fabsf(eps - 1e-5f) < 1e-9f);
    const el_gguf_kv *tok = el_gguf_get_arr(g, "tokenizer.ggml.tokens", EL_GGUF_STRING, &err);
    assert_non_null(tok);
    assert_int_equal(tok->arr_n, 512);
    assert_non_null(tok->arr_str);
    printf("  vocab %llu tokens, token 0 '%.*s', token 511 '%.*s'\n", (unsigned long long)tok->arr_n,
           (int)tok->arr_str[0].len, tok->arr_str[0].data, (int)tok->arr_str[511].len, tok->arr_str[511].data);

    /* tensors: shapes from the hyperparameters, sizes, bounds, alignment */
    const el_gguf_tensor *emb = el_gguf_find_tensor(g, "token_embd.weight");
    assert_non_null(emb);
    assert_int_equal(emb->n_dims, 2);
    assert_int_equal(emb->ne[0], 64);
    assert_int_equal(emb->ne[1], 512);
    const el_gguf_tensor *w1 = el_gguf_find_tensor(g, "blk.4.ffn_gate.weight");
    assert_non_null(w1);
    assert_int_equal(w1->ne[0], 64);
    assert_int_equal(w1->ne[1], 172);
    const el_gguf_tensor *wk = el_gguf_find_tensor(g, "blk.0.attn_k.weight");
    assert_non_null(wk);
    assert_int_equal(wk->ne[1], 64 / 8 * 4); /* kv heads * head dim */
    assert_null(el_gguf_find_tensor(g, "blk.5.attn_q.weight"));
    uint64_t total = 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const el_gguf_tensor *t = &g->tensors[i];
        assert_int_equal(t->type, EL_TYPE_F32);
        assert_int_equal(t->n_bytes, t->n_elements * 4);
        assert_int_equal(t->offset % 32, 0);
        assert_true(g->data_offset + t->offset + t->n_bytes <= g->size);
        assert_ptr_equal(t->data, g->map + g->data_offset + t->offset);
        total += t->n_bytes;
    }
    printf("  48 tensors, %llu data bytes, data section starts at %llu, file %zu bytes\n",
           (unsigned long long)total, (unsigned long long)g->data_offset, g->size);
    /* the first element of token_embd read by hand from the raw file */
    float a, b;
    memcpy(&a, raw + g->data_offset + emb->offset, 4);
    memcpy(&b, emb->data, 4);
    assert_memory_equal(&a, &b, 4);

    /* getters refuse wrong types with a message naming the key */
    uint32_t u;
    assert_int_equal(el_gguf_get_u32(g, "general.architecture", &u, &err), -1);
    printf("  wrong-type message: %s\n", err.msg);
    assert_non_null(strstr(err.msg, "general.architecture"));
    assert_int_equal(el_gguf_get_u32(g, "llama.no_such_key", &u, &err), -1);
    assert_non_null(strstr(err.msg, "missing"));
    assert_int_equal(el_gguf_check_arch(g, &err), 0);

    free(raw);
    el_gguf_close(g);
    free(path);
}

/* ---- read -> write -> read ---- */

/* Write g's keys and tensors (same order) to out with the same version. */
static void rewrite(const el_gguf *g, const char *out)
{
    el_err err;
    el_gguf_writer *w = el_gguf_writer_new(g->version, &err);
    assert_non_null(w);
    for (uint64_t i = 0; i < g->n_kv; i++)
        if (el_gguf_writer_copy_kv(w, g, &g->kv[i], &err)) fail_msg("copy_kv: %s", err.msg);
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const el_gguf_tensor *t = &g->tensors[i];
        if (el_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data, &err))
            fail_msg("add_tensor: %s", err.msg);
    }
    if (el_gguf_writer_write(w, out, &err)) fail_msg("write: %s", err.msg);
    el_gguf_writer_free(w);
}

/* Every key, type and value byte, and every tensor's descriptor and bytes. */
static void assert_same_content(const el_gguf *a, const el_gguf *b)
{
    assert_int_equal(a->version, b->version);
    assert_int_equal(a->n_kv, b->n_kv);
    assert_int_equal(a->n_tensors, b->n_tensors);
    assert_int_equal(a->alignment, b->alignment);
    for (uint64_t i = 0; i < a->n_kv; i++) {
        const el_gguf_kv *x = &a->kv[i], *y = &b->kv[i];
        assert_string_equal(x->key, y->key);
        assert_int_equal(x->type, y->type);
        assert_int_equal(x->value_size, y->value_size);
        assert_memory_equal(a->map + x->file_offset, b->map + y->file_offset, x->value_size);
    }
    for (uint64_t i = 0; i < a->n_tensors; i++) {
        const el_gguf_tensor *x = &a->tensors[i], *y = &b->tensors[i];
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->type, y->type);
        assert_int_equal(x->n_dims, y->n_dims);
        for (int d = 0; d < EL_GGUF_MAX_DIMS; d++) assert_int_equal(x->ne[d], y->ne[d]);
        assert_int_equal(x->n_bytes, y->n_bytes);
        assert_memory_equal(x->data, y->data, x->n_bytes);
    }
}

static void roundtrip_file(const char *path, int *identical)
{
    el_err err;
    el_gguf *g = el_gguf_open(path, &err);
    if (!g) fail_msg("open %s: %s", path, err.msg);
    const char *base = strrchr(path, '/');
    char *stem = tu_fmt("rt_%s", base ? base + 1 : path);
    char *out = tu_tmp(stem);
    free(stem);
    rewrite(g, out);
    el_gguf *h = el_gguf_open(out, &err);
    if (!h) fail_msg("reopen %s: %s", out, err.msg);
    assert_same_content(g, h);
    size_t la, lb;
    char *ra = tu_read_file(path, &la), *rb = tu_read_file(out, &lb);
    *identical = la == lb && memcmp(ra, rb, la) == 0;
    size_t first = 0;
    while (first < la && first < lb && ra[first] == rb[first]) first++;
    printf("  %-44s %llu keys, %llu tensors: content identical; file %zu -> %zu bytes, byte-identical: %s",
           base ? base + 1 : path, (unsigned long long)g->n_kv, (unsigned long long)g->n_tensors, la, lb,
           *identical ? "yes" : "no");
    if (!*identical) printf(" (first difference at byte %zu)", first);
    printf("\n");
    free(ra);
    free(rb);
    el_gguf_close(h);
    el_gguf_close(g);
    unlink(out);
    free(out);
}

static void test_roundtrip_reference_files(void **state)
{
    (void)state;
    char *stories = tu_shared("data/models/stories260K.gguf");
    char *pat = tu_shared("reference/tiny-*/*.gguf");
    glob_t gl;
    int rc = glob(pat, 0, NULL, &gl);
    assert_int_equal(rc, 0);
    printf("read -> write -> read of %zu reference files:\n", gl.gl_pathc + 1);
    int same, n_same = 0;
    roundtrip_file(stories, &same);
    n_same += same;
    for (size_t i = 0; i < gl.gl_pathc; i++) {
        roundtrip_file(gl.gl_pathv[i], &same);
        n_same += same;
    }
    printf("  %d of %zu files came back byte-identical\n", n_same, gl.gl_pathc + 1);
    /* these files are written by ggml-style writers (32-byte alignment,
     * tensors in order, padding after each tensor), so all must match */
    assert_int_equal(n_same, (int)gl.gl_pathc + 1);
    globfree(&gl);
    free(pat);
    free(stories);
}

/* ---- every value type, v2 and v3 ---- */

static void put_raw(uint8_t **p, const void *v, size_t n)
{
    memcpy(*p, v, n);
    *p += n;
}

/* nested: array of 2 arrays: [u16 x 3] and [string x 2] -> serialised bytes */
static size_t build_nested(uint8_t *buf)
{
    uint8_t *p = buf;
    uint32_t t = EL_GGUF_ARRAY;
    uint64_t n = 2;
    put_raw(&p, &t, 4);
    put_raw(&p, &n, 8);
    t = EL_GGUF_UINT16;
    n = 3;
    put_raw(&p, &t, 4);
    put_raw(&p, &n, 8);
    uint16_t v[3] = {1, 65535, 42};
    put_raw(&p, v, 6);
    t = EL_GGUF_STRING;
    n = 2;
    put_raw(&p, &t, 4);
    put_raw(&p, &n, 8);
    uint64_t l = 2;
    put_raw(&p, &l, 8);
    put_raw(&p, "hi", 2);
    l = 0;
    put_raw(&p, &l, 8);
    return (size_t)(p - buf);
}

static void write_all_types(const char *path, uint32_t version, uint32_t alignment, const uint8_t *nested,
                            size_t nested_len, float *f32data, uint8_t *q4data, uint8_t *q6data)
{
    el_err err;
    el_gguf_writer *w = el_gguf_writer_new(version, &err);
    assert_non_null(w);
    assert_int_equal(el_gguf_writer_set_str(w, "general.architecture", "test", &err), 0);
    if (alignment) assert_int_equal(el_gguf_writer_set_u32(w, "general.alignment", alignment, &err), 0);
    assert_int_equal(el_gguf_writer_set_u32(w, "t.u32", 4000000000u, &err), 0);
    assert_int_equal(el_gguf_writer_set_i32(w, "t.i32", -123456, &err), 0);
    assert_int_equal(el_gguf_writer_set_u64(w, "t.u64", 0xfedcba9876543210ull, &err), 0);
    assert_int_equal(el_gguf_writer_set_f32(w, "t.f32", 0.15625f, &err), 0);
    assert_int_equal(el_gguf_writer_set_bool(w, "t.bool", true, &err), 0);
    assert_int_equal(el_gguf_writer_set_str(w, "t.str", "h\xc3\xa9llo", &err), 0);
    assert_int_equal(el_gguf_writer_set_str(w, "t.empty", "", &err), 0);
    uint8_t u8 = 250;
    int8_t i8 = -7;
    uint16_t u16 = 65000;
    int16_t i16 = -32000;
    int64_t i64 = -(1ll << 62);
    double f64 = -2.5e300;
    assert_int_equal(el_gguf_writer_set_raw(w, "t.u8", EL_GGUF_UINT8, &u8, 1, &err), 0);
    assert_int_equal(el_gguf_writer_set_raw(w, "t.i8", EL_GGUF_INT8, &i8, 1, &err), 0);
    assert_int_equal(el_gguf_writer_set_raw(w, "t.u16", EL_GGUF_UINT16, &u16, 2, &err), 0);
    assert_int_equal(el_gguf_writer_set_raw(w, "t.i16", EL_GGUF_INT16, &i16, 2, &err), 0);
    assert_int_equal(el_gguf_writer_set_raw(w, "t.i64", EL_GGUF_INT64, &i64, 8, &err), 0);
    assert_int_equal(el_gguf_writer_set_raw(w, "t.f64", EL_GGUF_FLOAT64, &f64, 8, &err), 0);
    int32_t ai[5] = {-1, 0, 1, 2, INT32_MIN};
    float af[3] = {1.5f, -0.0f, 3e38f};
    uint8_t ab[4] = {1, 0, 1, 1};
    double ad[2] = {1e-300, 2};
    assert_int_equal(el_gguf_writer_set_arr(w, "t.arr_i32", EL_GGUF_INT32, ai, 5, &err), 0);
    assert_int_equal(el_gguf_writer_set_arr(w, "t.arr_f32", EL_GGUF_FLOAT32, af, 3, &err), 0);
    assert_int_equal(el_gguf_writer_set_arr(w, "t.arr_bool", EL_GGUF_BOOL, ab, 4, &err), 0);
    assert_int_equal(el_gguf_writer_set_arr(w, "t.arr_f64", EL_GGUF_FLOAT64, ad, 2, &err), 0);
    assert_int_equal(el_gguf_writer_set_arr(w, "t.arr_empty", EL_GGUF_UINT8, NULL, 0, &err), 0);
    const char *strs[3] = {"a", "", "x\0y"};
    uint64_t lens[3] = {1, 0, 3};
    assert_int_equal(el_gguf_writer_set_str_arr(w, "t.arr_str", strs, lens, 3, &err), 0);
    assert_int_equal(el_gguf_writer_set_raw(w, "t.nested", EL_GGUF_ARRAY, nested, nested_len, &err), 0);
    /* refused: arrays of strings through set_arr, malformed raw values */
    assert_int_equal(el_gguf_writer_set_arr(w, "t.bad", EL_GGUF_STRING, strs, 3, &err), -1);
    assert_int_equal(el_gguf_writer_set_raw(w, "t.bad", EL_GGUF_ARRAY, nested, nested_len - 1, &err), -1);
    printf("  refused malformed raw value: %s\n", err.msg);

    int64_t ne1[2] = {33, 3};   /* 99 floats: 396 bytes, not a multiple of any alignment */
    int64_t ne2[2] = {64, 2};   /* q4_0: 4 blocks of 18 bytes */
    int64_t ne3[1] = {256};     /* q6_K: 210 bytes */
    assert_int_equal(el_gguf_writer_add_tensor(w, "a.f32", EL_TYPE_F32, 2, ne1, f32data, &err), 0);
    assert_int_equal(el_gguf_writer_add_tensor(w, "b.q4_0", EL_TYPE_Q4_0, 2, ne2, q4data, &err), 0);
    assert_int_equal(el_gguf_writer_add_tensor(w, "c.q6_K", EL_TYPE_Q6_K, 1, ne3, q6data, &err), 0);
    if (el_gguf_writer_write(w, path, &err)) fail_msg("write: %s", err.msg);
    el_gguf_writer_free(w);
}

static void check_all_types(const char *path, uint32_t version, uint32_t alignment, const uint8_t *nested,
                            size_t nested_len, const float *f32data, const uint8_t *q4data, const uint8_t *q6data)
{
    el_err err;
    el_gguf *g = el_gguf_open(path, &err);
    if (!g) fail_msg("reopen: %s", err.msg);
    assert_int_equal(g->version, version);
    assert_int_equal(g->alignment, alignment ? alignment : 32);
    assert_int_equal(g->data_offset % g->alignment, 0);
    uint32_t u32;
    int64_t i;
    float f;
    bool b;
    char *s;
    assert_int_equal(el_gguf_get_u32(g, "t.u32", &u32, &err), 0);
    assert_int_equal(u32, 4000000000u);
    assert_int_equal(el_gguf_get_i64(g, "t.i32", &i, &err), 0);
    assert_int_equal(i, -123456);
    assert_int_equal(el_gguf_find(g, "t.u64")->v.u64, 0xfedcba9876543210ull);
    assert_int_equal(el_gguf_get_i64(g, "t.u64", &i, &err), -1); /* does not fit int64 */
    assert_int_equal(el_gguf_get_f32(g, "t.f32", &f, &err), 0);
    assert_true(f == 0.15625f);
    assert_int_equal(el_gguf_get_bool(g, "t.bool", &b, &err), 0);
    assert_true(b);
    assert_int_equal(el_gguf_get_str(g, "t.str", &s, &err), 0);
    assert_string_equal(s, "h\xc3\xa9llo");
    free(s);
    assert_int_equal(el_gguf_get_str(g, "t.empty", &s, &err), 0);
    assert_string_equal(s, "");
    free(s);
    assert_int_equal(el_gguf_find(g, "t.u8")->v.u64, 250);
    assert_int_equal(el_gguf_find(g, "t.i8")->v.i64, -7);
    assert_int_equal(el_gguf_find(g, "t.u16")->v.u64, 65000);
    assert_int_equal(el_gguf_find(g, "t.i16")->v.i64, -32000);
    assert_int_equal(el_gguf_find(g, "t.i64")->v.i64, -(1ll << 62));
    assert_true(el_gguf_find(g, "t.f64")->v.f64 == -2.5e300);
    assert_int_equal(el_gguf_find(g, "t.f64")->type, EL_GGUF_FLOAT64);
    const el_gguf_kv *a = el_gguf_get_arr(g, "t.arr_i32", EL_GGUF_INT32, &err);
    assert_non_null(a);
    assert_int_equal(a->arr_n, 5);
    int32_t ai[5];
    memcpy(ai, a->arr_data, 20);
    assert_int_equal(ai[4], INT32_MIN);
    a = el_gguf_get_arr(g, "t.arr_f32", EL_GGUF_FLOAT32, &err);
    assert_non_null(a);
    float af[3];
    memcpy(af, a->arr_data, 12);
    assert_true(af[2] == 3e38f && signbit(af[1]));
    assert_non_null(el_gguf_get_arr(g, "t.arr_bool", EL_GGUF_BOOL, &err));
    assert_non_null(el_gguf_get_arr(g, "t.arr_f64", EL_GGUF_FLOAT64, &err));
    a = el_gguf_get_arr(g, "t.arr_empty", EL_GGUF_UINT8, &err);
    assert_non_null(a);
    assert_int_equal(a->arr_n, 0);
    a = el_gguf_get_arr(g, "t.arr_str", EL_GGUF_STRING, &err);
    assert_non_null(a);
    assert_int_equal(a->arr_n, 3);
    assert_int_equal(a->arr_str[1].len, 0);
    assert_int_equal(a->arr_str[2].len, 3);
    assert_memory_equal(a->arr_str[2].data, "x\0y", 3);
    a = el_gguf_get_arr(g, "t.nested", EL_GGUF_ARRAY, &err);
    assert_non_null(a);
    assert_int_equal(a->arr_n, 2);
    assert_int_equal(a->value_size, nested_len);
    assert_memory_equal(g->map + a->file_offset, nested, nested_len);
    /* element-type mismatch is reported */
    assert_null(el_gguf_get_arr(g, "t.arr_i32", EL_GGUF_FLOAT32, &err));
    assert_non_null(strstr(err.msg, "t.arr_i32"));

    const el_gguf_tensor *t1 = el_gguf_find_tensor(g, "a.f32"), *t2 = el_gguf_find_tensor(g, "b.q4_0"),
                         *t3 = el_gguf_find_tensor(g, "c.q6_K");
    assert_non_null(t1);
    assert_non_null(t2);
    assert_non_null(t3);
    assert_int_equal(t1->n_bytes, 396);
    assert_int_equal(t2->n_bytes, 72);
    assert_int_equal(t3->n_bytes, 210);
    assert_int_equal(t2->ne[1], 2);
    assert_memory_equal(t1->data, f32data, 396);
    assert_memory_equal(t2->data, q4data, 72);
    assert_memory_equal(t3->data, q6data, 210);
    uint64_t al = g->alignment;
    assert_int_equal(t1->offset % al, 0);
    assert_int_equal(t2->offset % al, 0);
    assert_int_equal(t3->offset % al, 0);
    /* offsets are the packed aligned layout */
    assert_int_equal(t2->offset, (396 + al - 1) / al * al);
    printf("  v%u alignment %-5llu: %llu keys, data at %llu, offsets %llu %llu %llu, file %zu bytes\n", version,
           (unsigned long long)al, (unsigned long long)g->n_kv, (unsigned long long)g->data_offset,
           (unsigned long long)t1->offset, (unsigned long long)t2->offset, (unsigned long long)t3->offset, g->size);
    /* the file ends with the last tensor padded to the alignment */
    assert_int_equal(g->size, g->data_offset + (t3->offset + 210 + al - 1) / al * al);
    el_gguf_close(g);
}

static void test_all_value_types_versions_alignments(void **state)
{
    (void)state;
    uint8_t nested[128];
    size_t nested_len = build_nested(nested);
    float f32data[99];
    for (int i = 0; i < 99; i++) f32data[i] = sinf((float)i) * 3;
    float src[256];
    for (int i = 0; i < 256; i++) src[i] = cosf(0.37f * (float)i);
    uint8_t q4data[72], q6data[210];
    assert_int_equal(el_quantize_row(EL_TYPE_Q4_0, src, q4data, 128), 0);
    assert_int_equal(el_quantize_row(EL_TYPE_Q6_K, src, q6data, 256), 0);
    uint32_t versions[2] = {3, 2};
    uint32_t aligns[5] = {0, 1, 8, 64, 4096};
    char *path = tu_tmp("all_types.gguf");
    for (int v = 0; v < 2; v++)
        for (int a = 0; a < 5; a++) {
            write_all_types(path, versions[v], aligns[a], nested, nested_len, f32data, q4data, q6data);
            check_all_types(path, versions[v], aligns[a], nested, nested_len, f32data, q4data, q6data);
        }
    unlink(path);
    free(path);
}

/* ---- refusals, and the output name never holds a partial file ---- */

static int count_tmp_files(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d) return -1;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 && strstr(e->d_name, ".tmp.")) n++;
    closedir(d);
    return n;
}

static void test_writer_refusals_and_atomicity(void **state)
{
    (void)state;
    el_err err;
    assert_null(el_gguf_writer_new(1, &err));
    printf("  version 1: %s\n", err.msg);
    el_gguf_writer *w = el_gguf_writer_new(3, &err);
    assert_non_null(w);
    float data[64] = {0};
    int64_t ne[4] = {32, 2, 1, 1};
    assert_int_equal(el_gguf_writer_add_tensor(w, "x", EL_TYPE_F32, 2, ne, data, &err), 0);
    assert_int_equal(el_gguf_writer_add_tensor(w, "x", EL_TYPE_F32, 2, ne, data, &err), -1);
    printf("  duplicate: %s\n", err.msg);
    assert_non_null(strstr(err.msg, "duplicate"));
    assert_int_equal(el_gguf_writer_add_tensor(w, "y", EL_TYPE_F32, 5, ne, data, &err), -1);
    assert_int_equal(el_gguf_writer_add_tensor(w, "y", EL_TYPE_F32, 0, ne, data, &err), -1);
    int64_t bad[2] = {31, 2};
    assert_int_equal(el_gguf_writer_add_tensor(w, "y", EL_TYPE_Q4_0, 2, bad, data, &err), -1);
    printf("  block size: %s\n", err.msg);
    assert_int_equal(el_gguf_writer_add_tensor(w, "y", (el_type)99, 2, ne, data, &err), -1);
    int64_t neg[2] = {32, -1};
    assert_int_equal(el_gguf_writer_add_tensor(w, "y", EL_TYPE_F32, 2, neg, data, &err), -1);
    int64_t huge[4] = {1ll << 40, 1ll << 40, 1, 1};
    assert_int_equal(el_gguf_writer_add_tensor(w, "y", EL_TYPE_F32, 2, huge, data, &err), -1);
    printf("  overflow: %s\n", err.msg);

    /* a good file first, then a failing write to the same name leaves it intact */
    char *path = tu_tmp("atomic.gguf");
    assert_int_equal(el_gguf_writer_write(w, path, &err), 0);
    size_t len0;
    char *before = tu_read_file(path, &len0);
    assert_non_null(before);
    assert_int_equal(el_gguf_writer_set_u32(w, "general.alignment", 48, &err), 0);
    assert_int_equal(el_gguf_writer_write(w, path, &err), -1);
    printf("  bad alignment: %s\n", err.msg);
    assert_non_null(strstr(err.msg, "power of two"));
    assert_int_equal(el_gguf_writer_set_str(w, "general.alignment", "64", &err), 0);
    assert_int_equal(el_gguf_writer_write(w, path, &err), -1);
    size_t len1;
    char *after = tu_read_file(path, &len1);
    assert_int_equal(len0, len1);
    assert_memory_equal(before, after, len0);
    free(after);
    /* an unwritable destination: error, no temporary left behind */
    assert_int_equal(el_gguf_writer_set_u32(w, "general.alignment", 64, &err), 0);
    char *nodir = tu_tmp("no_such_dir/x.gguf");
    assert_int_equal(el_gguf_writer_write(w, nodir, &err), -1);
    printf("  unwritable: %s\n", err.msg);
    /* setting a key twice keeps one entry */
    assert_int_equal(el_gguf_writer_write(w, path, &err), 0);
    el_gguf *g = el_gguf_open(path, &err);
    assert_non_null(g);
    assert_int_equal(g->n_kv, 1);
    assert_int_equal(g->alignment, 64);
    el_gguf_close(g);
    char *dir = tu_tmp("");
    int n_tmp = count_tmp_files(dir, "atomic.gguf");
    printf("  leftover temporaries: %d\n", n_tmp);
    assert_int_equal(n_tmp, 0);
    el_gguf_writer_free(w);
    unlink(path);
    free(before);
    free(path);
    free(nodir);
    free(dir);
}

/* ---- edgelm info ---- */

static void test_info_cli(void **state)
{
    (void)state;
    char *model = tu_shared("data/models/stories260K.gguf");
    /* parameters from the architecture: dim 64, kv dim 64/8*4 = 32, ffn 172,
     * 5 layers, vocab 512, untied output */
    long long per_layer = 64 * 64 + 2 * 64 * 32 + 64 * 64 + 3 * 64 * 172 + 2 * 64;
    long long want_params = 5 * per_layer + 2 * 512 * 64 + 64;
    char *out = NULL, *err = NULL;
    char *cmd = tu_fmt("'%s' info '%s' --json --tensors", EL_BIN, model);
    assert_int_equal(tu_run(cmd, &out, &err), 0);
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "architecture")->valuestring, "llama");
    cJSON *hp = cJSON_GetObjectItem(j, "hyperparameters");
    assert_int_equal(cJSON_GetObjectItem(hp, "embedding_length")->valuedouble, 64);
    assert_int_equal(cJSON_GetObjectItem(hp, "block_count")->valuedouble, 5);
    assert_int_equal(cJSON_GetObjectItem(hp, "attention.head_count")->valuedouble, 8);
    assert_int_equal(cJSON_GetObjectItem(hp, "attention.head_count_kv")->valuedouble, 4);
    assert_int_equal(cJSON_GetObjectItem(hp, "feed_forward_length")->valuedouble, 172);
    assert_true(cJSON_GetObjectItem(hp, "attention.layer_norm_rms_epsilon")->valuedouble == 1e-5);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "vocab"), "size")->valuedouble, 512);
    assert_int_equal(cJSON_GetObjectItem(j, "n_tensors")->valuedouble, 48);
    assert_int_equal(cJSON_GetObjectItem(j, "version")->valuedouble, 3);
    assert_int_equal(cJSON_GetObjectItem(j, "file_size")->valuedouble, 1185376);
    double params = cJSON_GetObjectItem(j, "params")->valuedouble;
    printf("info --json: params %.0f (from the shapes: %lld), tensors listed %d\n", params, want_params,
           cJSON_GetArraySize(cJSON_GetObjectItem(j, "tensors")));
    assert_int_equal((long long)params, want_params);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "types"), "f32"), "bytes")->valuedouble,
                     want_params * 4);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(j, "synthetic")));
    cJSON *t0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "tensors"), 0);
    assert_non_null(cJSON_GetObjectItem(t0, "offset"));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "tensors")), 48);
    cJSON_Delete(j);
    free(out); free(err); free(cmd);

    cmd = tu_fmt("'%s' info '%s'", EL_BIN, model);
    assert_int_equal(tu_run(cmd, &out, &err), 0);
    assert_non_null(strstr(out, "params          292.8K"));
    assert_non_null(strstr(out, "context_length"));
    assert_true(err == NULL || err[0] == 0);
    free(out); free(err); free(cmd);

    /* a synthetic model: loud warning on stderr, "synthetic": true */
    el_err e;
    el_gguf_writer *w = el_gguf_writer_new(3, &e);
    assert_non_null(w);
    assert_int_equal(el_gguf_writer_set_str(w, "general.architecture", "toy", &e), 0);
    assert_int_equal(el_gguf_writer_set_bool(w, "edgelm.synthetic", true, &e), 0);
    float z[4] = {0};
    int64_t ne[1] = {4};
    assert_int_equal(el_gguf_writer_add_tensor(w, "w", EL_TYPE_F32, 1, ne, z, &e), 0);
    char *syn = tu_tmp("synthetic.gguf");
    assert_int_equal(el_gguf_writer_write(w, syn, &e), 0);
    el_gguf_writer_free(w);
    cmd = tu_fmt("'%s' info '%s' --json", EL_BIN, syn);
    assert_int_equal(tu_run(cmd, &out, &err), 0);
    printf("synthetic: %s", err);
    assert_non_null(strstr(err, "WARNING: synthetic model (random weights)"));
    j = cJSON_Parse(out);
    assert_non_null(j);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "synthetic")));
    cJSON_Delete(j);
    free(out); free(err); free(cmd);
    unlink(syn);
    free(syn);
    free(model);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stories_reader),
        cmocka_unit_test(test_roundtrip_reference_files),
        cmocka_unit_test(test_all_value_types_versions_alignments),
        cmocka_unit_test(test_writer_refusals_and_atomicity),
        cmocka_unit_test(test_info_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
