/* gguf.h -- GGUF (versions 2 and 3) reader and writer.
 *
 * The reader memory-maps the file and validates everything before returning:
 * magic, version, every length and count against the bytes that remain, every
 * metadata value type, tensor dimensions and element counts (no overflow),
 * tensor types, alignment of offsets, and that every tensor's data lies inside
 * the file. Nothing is trusted afterwards without these checks having passed.
 *
 * Strings in the file are not NUL-terminated; el_gguf_str points into the
 * mapping. Keys and tensor names are also copied as C strings for convenience.
 */
#ifndef EDGELM_GGUF_H
#define EDGELM_GGUF_H

#include "common.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EL_GGUF_MAGIC 0x46554747u /* "GGUF" little-endian */
#define EL_GGUF_DEFAULT_ALIGNMENT 32
#define EL_GGUF_MAX_DIMS 4

typedef enum el_gguf_vtype {
    EL_GGUF_UINT8 = 0,
    EL_GGUF_INT8 = 1,
    EL_GGUF_UINT16 = 2,
    EL_GGUF_INT16 = 3,
    EL_GGUF_UINT32 = 4,
    EL_GGUF_INT32 = 5,
    EL_GGUF_FLOAT32 = 6,
    EL_GGUF_BOOL = 7,
    EL_GGUF_STRING = 8,
    EL_GGUF_ARRAY = 9,
    EL_GGUF_UINT64 = 10,
    EL_GGUF_INT64 = 11,
    EL_GGUF_FLOAT64 = 12,
    EL_GGUF_VTYPE_COUNT = 13
} el_gguf_vtype;

typedef struct el_gguf_str {
    uint64_t len;
    const char *data; /* not NUL-terminated */
} el_gguf_str;

typedef struct el_gguf_kv {
    char *key;              /* NUL-terminated copy */
    el_gguf_vtype type;
    /* scalar values (type != ARRAY): the one matching `type` is set; integer
     * types are also widened into i64/u64, floats into f64 */
    union {
        uint64_t u64;
        int64_t i64;
        double f64;
        bool b;
        el_gguf_str str;
    } v;
    /* arrays (type == ARRAY) */
    el_gguf_vtype arr_type;
    uint64_t arr_n;
    const uint8_t *arr_data;   /* raw little-endian elements (non-string arrays) */
    el_gguf_str *arr_str;      /* string arrays: arr_n entries (allocated) */
    /* where the value starts in the file and how many bytes it spans (for the
     * writer's byte-exact copy; for arrays this includes the element type and
     * count) */
    uint64_t file_offset;
    uint64_t value_size;
} el_gguf_kv;

typedef struct el_gguf_tensor {
    char *name;                       /* NUL-terminated copy */
    uint32_t n_dims;
    int64_t ne[EL_GGUF_MAX_DIMS];     /* unused dims are 1 */
    el_type type;
    uint64_t offset;                  /* relative to the data section */
    uint64_t n_elements;
    uint64_t n_bytes;
    const void *data;                 /* inside the mapping */
} el_gguf_tensor;

typedef struct el_gguf {
    char *path;            /* for messages */
    const uint8_t *map;    /* file bytes */
    size_t size;
    int owns_map;          /* 1: munmap on close; 0: caller's memory */
    uint32_t version;
    uint64_t n_kv;
    el_gguf_kv *kv;
    uint64_t n_tensors;
    el_gguf_tensor *tensors;
    uint64_t alignment;
    uint64_t data_offset;  /* start of the tensor data section */
} el_gguf;

/* Open and validate a file. Returns NULL and sets err on any problem. */
el_gguf *el_gguf_open(const char *path, el_err *err);

/* Validate a buffer already in memory (used by fuzzers and tests); the buffer
 * must outlive the returned object. `name` is used in messages. */
el_gguf *el_gguf_open_memory(const void *buf, size_t size, const char *name, el_err *err);

void el_gguf_close(el_gguf *g);

/* Lookup. Return NULL / -1 when absent. */
const el_gguf_kv *el_gguf_find(const el_gguf *g, const char *key);
int64_t el_gguf_find_index(const el_gguf *g, const char *key);
const el_gguf_tensor *el_gguf_find_tensor(const el_gguf *g, const char *name);

/* Typed getters. Each returns 0 on success, -1 when the key is missing or
 * has an incompatible type (err names the file, the key and the types).
 * Integer getters accept any integer type whose value fits. */
int el_gguf_get_u32(const el_gguf *g, const char *key, uint32_t *out, el_err *err);
int el_gguf_get_i64(const el_gguf *g, const char *key, int64_t *out, el_err *err);
int el_gguf_get_f32(const el_gguf *g, const char *key, float *out, el_err *err);
int el_gguf_get_bool(const el_gguf *g, const char *key, bool *out, el_err *err);
/* Returns a malloc'd NUL-terminated copy. */
int el_gguf_get_str(const el_gguf *g, const char *key, char **out, el_err *err);
/* Arrays: any element type; returns the kv or NULL with err set. */
const el_gguf_kv *el_gguf_get_arr(const el_gguf *g, const char *key, el_gguf_vtype elem_type, el_err *err);

/* Light architecture check (llama, qwen2, qwen2vl; other architectures
 * pass): <arch>.embedding_length, .block_count and .attention.head_count are
 * present positive integers, head_count_kv divides head_count, and the
 * shapes of token_embd.weight (embedding_length x vocabulary size),
 * output.weight, output_norm.weight and every blk.N.attn_norm.weight agree
 * with them. Returns 0 or -1 with err naming the key or tensor. */
int el_gguf_check_arch(const el_gguf *g, el_err *err);

/* Value-type names ("uint32", "string", ...) for messages. */
const char *el_gguf_vtype_name(el_gguf_vtype t);

/* ---- writer ----
 * Build a file in memory-light fashion: metadata and tensor descriptors are
 * collected, then el_gguf_writer_write streams header + data to `path`
 * (through a temporary file renamed into place, so an interrupted write never
 * leaves a truncated file under the output name). */
typedef struct el_gguf_writer el_gguf_writer;

el_gguf_writer *el_gguf_writer_new(uint32_t version, el_err *err);
void el_gguf_writer_free(el_gguf_writer *w);
int el_gguf_writer_set_u32(el_gguf_writer *w, const char *key, uint32_t v, el_err *err);
int el_gguf_writer_set_i32(el_gguf_writer *w, const char *key, int32_t v, el_err *err);
int el_gguf_writer_set_u64(el_gguf_writer *w, const char *key, uint64_t v, el_err *err);
int el_gguf_writer_set_f32(el_gguf_writer *w, const char *key, float v, el_err *err);
int el_gguf_writer_set_bool(el_gguf_writer *w, const char *key, bool v, el_err *err);
int el_gguf_writer_set_str(el_gguf_writer *w, const char *key, const char *v, el_err *err);
/* Array of fixed-size elements (not strings): n elements of elem_type, raw LE. */
int el_gguf_writer_set_arr(el_gguf_writer *w, const char *key, el_gguf_vtype elem_type,
                           const void *data, uint64_t n, el_err *err);
int el_gguf_writer_set_str_arr(el_gguf_writer *w, const char *key, const char *const *strs,
                               const uint64_t *lens /* NULL: strlen */, uint64_t n, el_err *err);
/* Set a value from its serialised bytes (what follows the type field in the
 * file: e.g. u32 elem_type | u64 n | elements for arrays, nested arrays
 * included). The bytes are checked to form exactly one well-formed value. */
int el_gguf_writer_set_raw(el_gguf_writer *w, const char *key, el_gguf_vtype type, const void *value,
                           size_t len, el_err *err);
/* Copy one key/value (any type, including arrays) from an open file. */
int el_gguf_writer_copy_kv(el_gguf_writer *w, const el_gguf *src, const el_gguf_kv *kv, el_err *err);
/* Add a tensor; `data` (n_bytes = el_row_size(type, n_elements)) must stay
 * valid until el_gguf_writer_write returns. */
int el_gguf_writer_add_tensor(el_gguf_writer *w, const char *name, el_type type, uint32_t n_dims,
                              const int64_t *ne, const void *data, el_err *err);
int el_gguf_writer_write(el_gguf_writer *w, const char *path, el_err *err);

#ifdef __cplusplus
}
#endif
#endif
