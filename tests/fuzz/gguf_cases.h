/* gguf_cases.h -- GGUF files built byte by byte: one small valid llama-shaped
 * model and a catalogue of hostile variants, each with the substring its
 * error message must contain. Shared by tests/test_hostile.c and the fuzz
 * seed generator tests/fuzz/gen_corpus.c (header-only, static functions). */
#ifndef EL_GGUF_CASES_H
#define EL_GGUF_CASES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- a growable byte buffer ---- */

typedef struct {
    uint8_t *p;
    size_t n, cap;
} gc_buf;

static void gc_put(gc_buf *b, const void *v, size_t n)
{
    if (b->n + n > b->cap) {
        size_t c = b->cap ? b->cap : 256;
        while (c < b->n + n) c *= 2;
        uint8_t *q = realloc(b->p, c);
        if (!q) abort();
        b->p = q;
        b->cap = c;
    }
    if (n) memcpy(b->p + b->n, v, n);
    b->n += n;
}

static void gc_u32(gc_buf *b, uint32_t v) { gc_put(b, &v, 4); }
static void gc_u64(gc_buf *b, uint64_t v) { gc_put(b, &v, 8); }
static void gc_str(gc_buf *b, const char *s)
{
    gc_u64(b, strlen(s));
    gc_put(b, s, strlen(s));
}
static void gc_zeros(gc_buf *b, size_t n)
{
    static const uint8_t z[64];
    while (n) {
        size_t k = n < 64 ? n : 64;
        gc_put(b, z, k);
        n -= k;
    }
}
static void gc_align(gc_buf *b, size_t a) { gc_zeros(b, (a - b->n % a) % a); }

static void gc_header(gc_buf *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv)
{
    gc_put(b, "GGUF", 4);
    gc_u32(b, version);
    gc_u64(b, n_tensors);
    gc_u64(b, n_kv);
}

/* value types as in GGUF */
enum { GC_U8, GC_I8, GC_U16, GC_I16, GC_U32, GC_I32, GC_F32, GC_BOOL, GC_STR, GC_ARR, GC_U64, GC_I64, GC_F64 };

static void gc_kv_u32(gc_buf *b, const char *k, uint32_t v) { gc_str(b, k); gc_u32(b, GC_U32); gc_u32(b, v); }
static void gc_kv_f32(gc_buf *b, const char *k, float v) { gc_str(b, k); gc_u32(b, GC_F32); gc_put(b, &v, 4); }
static void gc_kv_str(gc_buf *b, const char *k, const char *v) { gc_str(b, k); gc_u32(b, GC_STR); gc_str(b, v); }

static void gc_tinfo(gc_buf *b, const char *name, uint32_t n_dims, const uint64_t *ne, uint32_t type, uint64_t off)
{
    gc_str(b, name);
    gc_u32(b, n_dims);
    for (uint32_t d = 0; d < n_dims; d++) gc_u64(b, ne[d]);
    gc_u32(b, type);
    gc_u64(b, off);
}

/* ---- the valid model and its knobs ---- */

typedef struct {
    uint32_t version;        /* 3 */
    uint32_t embd;           /* llama.embedding_length value (8) */
    bool no_embd_key;        /* drop llama.embedding_length */
    bool dup_key;            /* llama.block_count twice */
    uint32_t head_kv;        /* 1 */
    int alignment;           /* 0: no key (32); else general.alignment */
    const char *emb_name;    /* "token_embd.weight" */
    const char *norm_name;   /* "blk.0.attn_norm.weight" */
    uint32_t emb_type;       /* 0 = f32 */
    uint64_t emb_ne0;        /* 8 */
    uint32_t emb_ndims;      /* 2 */
    uint64_t norm_off;       /* 128 */
    uint64_t out_off;        /* 160 */
    int trailing_pad;        /* zero bytes after the data */
} gc_opts;

static gc_opts gc_default(void)
{
    gc_opts o = {3, 8, false, false, 1, 0, "token_embd.weight", "blk.0.attn_norm.weight", 0, 8, 2, 128, 160, 0};
    return o;
}

/* A llama model: dim 8, 1 layer, 2 heads, vocab 4; tensors token_embd
 * [8, 4], blk.0.attn_norm [8], output_norm [8], all f32, 192 data bytes
 * ending the file (every strict prefix is invalid). */
static void gc_llama(gc_buf *b, gc_opts o)
{
    uint64_t n_kv = 7 + (o.no_embd_key ? 0 : 1) + (o.dup_key ? 1 : 0) + (o.alignment ? 1 : 0);
    gc_header(b, o.version, 3, n_kv);
    gc_kv_str(b, "general.architecture", "llama");
    gc_kv_str(b, "general.name", "hostile-test");
    if (o.alignment) gc_kv_u32(b, "general.alignment", (uint32_t)o.alignment);
    if (!o.no_embd_key) gc_kv_u32(b, "llama.embedding_length", o.embd);
    gc_kv_u32(b, "llama.block_count", 1);
    if (o.dup_key) gc_kv_u32(b, "llama.block_count", 1);
    gc_kv_u32(b, "llama.attention.head_count", 2);
    gc_kv_u32(b, "llama.attention.head_count_kv", o.head_kv);
    gc_kv_f32(b, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    gc_str(b, "tokenizer.ggml.tokens");
    gc_u32(b, GC_ARR);
    gc_u32(b, GC_STR);
    gc_u64(b, 4);
    const char *toks[4] = {"<unk>", "<s>", "</s>", "a"};
    for (int i = 0; i < 4; i++) gc_str(b, toks[i]);
    uint64_t ne_emb[2] = {o.emb_ne0, 4}, ne8[1] = {8};
    gc_tinfo(b, o.emb_name, o.emb_ndims, ne_emb, o.emb_type, 0);
    gc_tinfo(b, o.norm_name, 1, ne8, 0, o.norm_off);
    gc_tinfo(b, "output_norm.weight", 1, ne8, 0, o.out_off);
    gc_align(b, o.alignment > 0 && !(o.alignment & (o.alignment - 1)) ? (size_t)o.alignment : 32);
    /* data: token_embd at 0, then the two norms at their offsets (gaps zeroed
     * when the offsets are ascending and near; hostile offsets get none) */
    size_t data0 = b->n;
    for (int i = 0; i < 48; i++) {
        if (i == 32 && o.norm_off > 128 && o.norm_off <= 4096) gc_zeros(b, data0 + o.norm_off - b->n);
        if (i == 40 && o.out_off > o.norm_off + 32 && o.out_off <= 4096) gc_zeros(b, data0 + o.out_off - b->n);
        float v = i < 32 ? (float)(i % 7) * 0.25f - 0.5f : 1.0f;
        gc_put(b, &v, 4);
    }
    gc_zeros(b, (size_t)o.trailing_pad);
}

/* ---- hostile cases ---- */

typedef struct {
    const char *name;   /* file stem */
    const char *expect; /* substring of the error message */
    void (*build)(gc_buf *b);
} gc_case;

static void h_bad_magic(gc_buf *b) { gc_llama(b, gc_default()); memcpy(b->p, "GGML", 4); }
static void h_version1(gc_buf *b) { gc_opts o = gc_default(); o.version = 1; gc_llama(b, o); }
static void h_version4(gc_buf *b) { gc_opts o = gc_default(); o.version = 4; gc_llama(b, o); }
static void h_empty(gc_buf *b) { (void)b; }
static void h_trunc_header(gc_buf *b) { gc_llama(b, gc_default()); b->n = 13; }
static void h_trunc_kv(gc_buf *b)
{
    gc_header(b, 3, 0, 1);
    gc_str(b, "a.b");
    gc_u32(b, GC_U32);
    gc_u32(b, 7);
    b->n -= 2; /* half of the u32 value */
}
static void h_trunc_data(gc_buf *b) { gc_llama(b, gc_default()); b->n -= 4; }
static void h_ndims5(gc_buf *b)
{
    gc_header(b, 3, 1, 0);
    uint64_t ne[5] = {2, 2, 2, 2, 2};
    gc_tinfo(b, "t", 5, ne, 0, 0);
    gc_align(b, 32);
    gc_zeros(b, 128);
}
static void h_nelem_overflow(gc_buf *b)
{
    gc_header(b, 3, 1, 0);
    uint64_t ne[3] = {1ull << 31, 1ull << 31, 4};
    gc_tinfo(b, "t", 3, ne, 0, 0);
    gc_align(b, 32);
    gc_zeros(b, 64);
}
static void h_bytes_overflow(gc_buf *b)
{
    gc_header(b, 3, 1, 0);
    uint64_t ne[2] = {1ull << 31, 1ull << 31}; /* 2^62 f32 elements: 2^64 bytes */
    gc_tinfo(b, "t", 2, ne, 0, 0);
    gc_align(b, 32);
    gc_zeros(b, 64);
}
static void h_offset_past_eof(gc_buf *b) { gc_opts o = gc_default(); o.out_off = 1ull << 40; gc_llama(b, o); }
static void h_misaligned(gc_buf *b) { gc_opts o = gc_default(); o.norm_off = 132; gc_llama(b, o); }
static void h_type99(gc_buf *b) { gc_opts o = gc_default(); o.emb_type = 99; gc_llama(b, o); }
static void h_long_string(gc_buf *b)
{
    gc_header(b, 3, 0, 1);
    gc_u64(b, 1000000); /* key length */
    gc_put(b, "general.name", 12);
    gc_zeros(b, 16);
}
static void h_huge_array(gc_buf *b)
{
    gc_header(b, 3, 0, 1);
    gc_str(b, "a.arr");
    gc_u32(b, GC_ARR);
    gc_u32(b, GC_U32);
    gc_u64(b, 1ull << 60);
    gc_zeros(b, 64);
}
static void h_huge_n_kv(gc_buf *b) { gc_header(b, 3, 0, 1ull << 62); gc_zeros(b, 64); }
static void h_huge_n_tensors(gc_buf *b) { gc_header(b, 3, UINT64_MAX, 0); gc_zeros(b, 64); }
static void h_dup_tensor(gc_buf *b) { gc_opts o = gc_default(); o.norm_name = "token_embd.weight"; gc_llama(b, o); }
static void h_dup_key(gc_buf *b) { gc_opts o = gc_default(); o.dup_key = true; gc_llama(b, o); }
static void h_alignment48(gc_buf *b) { gc_opts o = gc_default(); o.alignment = 48; gc_llama(b, o); }
static void h_overlap(gc_buf *b) { gc_opts o = gc_default(); o.out_off = 96; gc_llama(b, o); }
static void h_depth_bomb(gc_buf *b)
{
    gc_header(b, 3, 0, 1);
    gc_str(b, "a.nest");
    gc_u32(b, GC_ARR);
    for (int i = 0; i < 64; i++) {
        gc_u32(b, GC_ARR);
        gc_u64(b, 1);
    }
    gc_u32(b, GC_U8);
    gc_u64(b, 0);
}
static void h_missing_key(gc_buf *b) { gc_opts o = gc_default(); o.no_embd_key = true; gc_llama(b, o); }
static void h_shape_contradicts(gc_buf *b) { gc_opts o = gc_default(); o.embd = 16; gc_llama(b, o); }
static void h_bad_value_type(gc_buf *b)
{
    gc_header(b, 3, 0, 1);
    gc_str(b, "a.b");
    gc_u32(b, 13);
    gc_u32(b, 0);
}
static void h_block_size(gc_buf *b) { gc_opts o = gc_default(); o.emb_type = 2; o.emb_ne0 = 31; gc_llama(b, o); }
static void h_zero_dim(gc_buf *b) { gc_opts o = gc_default(); o.emb_ne0 = 0; gc_llama(b, o); }
static void h_bad_kv_heads(gc_buf *b) { gc_opts o = gc_default(); o.head_kv = 3; gc_llama(b, o); }
static void h_alignment_type(gc_buf *b)
{
    gc_header(b, 3, 0, 1);
    gc_kv_str(b, "general.alignment", "32");
}

static const gc_case gc_hostile[] = {
    {"bad_magic", "bad magic", h_bad_magic},
    {"version1", "unsupported GGUF version 1", h_version1},
    {"version4", "unsupported GGUF version 4", h_version4},
    {"empty", "empty", h_empty},
    {"trunc_header", "truncated", h_trunc_header},
    {"trunc_kv", "truncated", h_trunc_kv},
    {"trunc_data", "past the end of the file", h_trunc_data},
    {"ndims5", "5 dimensions", h_ndims5},
    {"nelem_overflow", "element count overflows", h_nelem_overflow},
    {"bytes_overflow", "byte size overflows", h_bytes_overflow},
    {"offset_past_eof", "past the end of the file", h_offset_past_eof},
    {"misaligned", "not a multiple of the alignment", h_misaligned},
    {"type99", "unknown tensor type 99", h_type99},
    {"long_string", "claims 1000000 bytes", h_long_string},
    {"huge_array", "array of 1152921504606846976", h_huge_array},
    {"huge_n_kv", "metadata entries", h_huge_n_kv},
    {"huge_n_tensors", "18446744073709551615 tensors", h_huge_n_tensors},
    {"dup_tensor", "duplicate tensor name 'token_embd.weight'", h_dup_tensor},
    {"dup_key", "duplicate metadata key 'llama.block_count'", h_dup_key},
    {"alignment48", "power of two", h_alignment48},
    {"overlap", "overlap", h_overlap},
    {"depth_bomb", "nested deeper", h_depth_bomb},
    {"missing_key", "llama.embedding_length", h_missing_key},
    {"shape_contradicts", "contradicts", h_shape_contradicts},
    {"bad_value_type", "value type 13", h_bad_value_type},
    {"block_size", "block size", h_block_size},
    {"zero_dim", "expected a positive size", h_zero_dim},
    {"bad_kv_heads", "head_count_kv", h_bad_kv_heads},
    {"alignment_type", "expected uint32", h_alignment_type},
};
#define GC_N_HOSTILE (sizeof gc_hostile / sizeof gc_hostile[0])

#endif
