/* gguf.c -- GGUF reader: mmap the file, validate every byte we will trust.
 *
 * File layout (all little-endian):
 *   u32 magic "GGUF" | u32 version (2, 3) | u64 n_tensors | u64 n_kv
 *   n_kv x { string key | u32 value_type | value }
 *   n_tensors x { string name | u32 n_dims | u64 ne[n_dims] | u32 type | u64 offset }
 *   padding to `general.alignment` (default 32)
 *   tensor data; each tensor at data_offset + offset, offsets aligned
 * string = u64 length + bytes (no NUL); array value = u32 elem_type | u64 n | n elements.
 */
#include "edgelm/gguf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdarg.h>

#define GGUF_MAX_ARRAY_DEPTH 4     /* nested arrays deeper than this are refused */
#define GGUF_MAX_NAME 256          /* longest tensor name accepted */

/* ---- a bounds-checked cursor over the file bytes ---- */

typedef struct {
    const uint8_t *p;
    size_t size;
    size_t pos;
    const char *name; /* file name for messages */
    el_err *err;
} cursor;

/* Add context after the file name: "f.gguf: <ctx>: <rest of the message>". */
static int ctx_prefix(cursor *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int ctx_prefix(cursor *c, const char *fmt, ...)
{
    if (!c->err) return -1;
    char pre[300], old[sizeof c->err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, c->err->msg, sizeof old);
    size_t n = strlen(c->name);
    if (strncmp(old, c->name, n) == 0 && old[n] == ':' && old[n + 1] == ' ')
        return el_errf(c->err, "%s: %s: %s", c->name, pre, old + n + 2);
    return el_errf(c->err, "%s: %s: %s", c->name, pre, old);
}

static int need(cursor *c, uint64_t n, const char *what)
{
    if (n > c->size - c->pos)
        return el_errf(c->err, "%s: file truncated at byte %zu while reading %s (needs %llu bytes, %zu remain)",
                       c->name, c->pos, what, (unsigned long long)n, c->size - c->pos);
    return 0;
}

static int rd_u32(cursor *c, uint32_t *v, const char *what)
{
    if (need(c, 4, what)) return -1;
    memcpy(v, c->p + c->pos, 4);
    c->pos += 4;
    return 0;
}

static int rd_u64(cursor *c, uint64_t *v, const char *what)
{
    if (need(c, 8, what)) return -1;
    memcpy(v, c->p + c->pos, 8);
    c->pos += 8;
    return 0;
}

static int rd_str(cursor *c, el_gguf_str *s, const char *what)
{
    uint64_t len;
    if (rd_u64(c, &len, what)) return -1;
    if (len > c->size - c->pos)
        return el_errf(c->err, "%s: %s at byte %zu claims %llu bytes but only %zu remain in the file",
                       c->name, what, c->pos - 8, (unsigned long long)len, c->size - c->pos);
    s->len = len;
    s->data = (const char *)c->p + c->pos;
    c->pos += len;
    return 0;
}

static char *str_dup(const el_gguf_str *s, el_err *err)
{
    char *d = el_malloc(s->len + 1, err);
    if (!d) return NULL;
    memcpy(d, s->data, s->len);
    d[s->len] = 0;
    return d;
}

/* ---- value types ---- */

static const char *const vtype_names[EL_GGUF_VTYPE_COUNT] = {
    "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
    "bool", "string", "array", "uint64", "int64", "float64"};

const char *el_gguf_vtype_name(el_gguf_vtype t)
{
    return (unsigned)t < EL_GGUF_VTYPE_COUNT ? vtype_names[t] : "invalid";
}

/* Size of a fixed-size scalar, 0 for string/array/invalid. */
static size_t vtype_size(uint32_t t)
{
    switch (t) {
    case EL_GGUF_UINT8: case EL_GGUF_INT8: case EL_GGUF_BOOL: return 1;
    case EL_GGUF_UINT16: case EL_GGUF_INT16: return 2;
    case EL_GGUF_UINT32: case EL_GGUF_INT32: case EL_GGUF_FLOAT32: return 4;
    case EL_GGUF_UINT64: case EL_GGUF_INT64: case EL_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

/* Decode a fixed-size scalar into the kv's union (with widened copies). */
static void decode_scalar(el_gguf_kv *kv, const uint8_t *p)
{
    union { uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32; int32_t i32;
            float f32; uint64_t u64; int64_t i64; double f64; } x;
    memcpy(&x, p, vtype_size(kv->type));
    switch (kv->type) {
    case EL_GGUF_UINT8: kv->v.u64 = x.u8; break;
    case EL_GGUF_INT8: kv->v.i64 = x.i8; break;
    case EL_GGUF_UINT16: kv->v.u64 = x.u16; break;
    case EL_GGUF_INT16: kv->v.i64 = x.i16; break;
    case EL_GGUF_UINT32: kv->v.u64 = x.u32; break;
    case EL_GGUF_INT32: kv->v.i64 = x.i32; break;
    case EL_GGUF_FLOAT32: kv->v.f64 = x.f32; break;
    case EL_GGUF_BOOL: kv->v.b = x.u8 != 0; break;
    case EL_GGUF_UINT64: kv->v.u64 = x.u64; break;
    case EL_GGUF_INT64: kv->v.i64 = x.i64; break;
    case EL_GGUF_FLOAT64: kv->v.f64 = x.f64; break;
    default: break;
    }
}

/* Skip over one array body (elem type + count already read), validating it. */
static int skip_array(cursor *c, uint32_t elem_type, uint64_t n, int depth, const char *key)
{
    if (elem_type >= EL_GGUF_VTYPE_COUNT)
        return el_errf(c->err, "%s: key '%s': array element type %u is not a GGUF value type (0..12)",
                       c->name, key, elem_type);
    size_t es = vtype_size(elem_type);
    if (es) {
        if (n > (c->size - c->pos) / es)
            return el_errf(c->err, "%s: key '%s': array of %llu %s elements needs more bytes than the %zu that remain",
                           c->name, key, (unsigned long long)n, vtype_names[elem_type], c->size - c->pos);
        c->pos += n * es;
        return 0;
    }
    if (elem_type == EL_GGUF_STRING) {
        if (n > (c->size - c->pos) / 8)
            return el_errf(c->err, "%s: key '%s': array of %llu strings cannot fit in the %zu bytes that remain",
                           c->name, key, (unsigned long long)n, c->size - c->pos);
        for (uint64_t i = 0; i < n; i++) {
            el_gguf_str s;
            if (rd_str(c, &s, "array string")) return ctx_prefix(c, "key '%s' element %llu", key, (unsigned long long)i);
        }
        return 0;
    }
    /* nested array */
    if (depth >= GGUF_MAX_ARRAY_DEPTH)
        return el_errf(c->err, "%s: key '%s': arrays nested deeper than %d levels", c->name, key,
                       GGUF_MAX_ARRAY_DEPTH);
    if (n > (c->size - c->pos) / 12)
        return el_errf(c->err, "%s: key '%s': array of %llu arrays cannot fit in the %zu bytes that remain",
                       c->name, key, (unsigned long long)n, c->size - c->pos);
    for (uint64_t i = 0; i < n; i++) {
        uint32_t et;
        uint64_t en;
        if (rd_u32(c, &et, "nested array type") || rd_u64(c, &en, "nested array length")) return -1;
        if (skip_array(c, et, en, depth + 1, key)) return -1;
    }
    return 0;
}

static int read_kv(cursor *c, el_gguf_kv *kv, uint64_t index)
{
    el_gguf_str key;
    char what[64];
    snprintf(what, sizeof what, "key of metadata entry %llu", (unsigned long long)index);
    if (rd_str(c, &key, what)) return -1;
    if (key.len == 0) return el_errf(c->err, "%s: metadata entry %llu has an empty key", c->name, (unsigned long long)index);
    if (!(kv->key = str_dup(&key, c->err))) return -1;
    uint32_t t;
    if (rd_u32(c, &t, "metadata value type")) return ctx_prefix(c, "key '%s'", kv->key);
    if (t >= EL_GGUF_VTYPE_COUNT)
        return el_errf(c->err, "%s: key '%s': value type %u is not a GGUF value type (0..12)", c->name,
                       kv->key, t);
    kv->type = (el_gguf_vtype)t;
    kv->file_offset = c->pos;
    if (t == EL_GGUF_STRING) {
        if (rd_str(c, &kv->v.str, "string value")) return ctx_prefix(c, "key '%s'", kv->key);
    } else if (t == EL_GGUF_ARRAY) {
        uint32_t et;
        uint64_t n;
        if (rd_u32(c, &et, "array element type") || rd_u64(c, &n, "array length"))
            return ctx_prefix(c, "key '%s'", kv->key);
        kv->arr_type = (el_gguf_vtype)et;
        kv->arr_n = n;
        kv->arr_data = c->p + c->pos;
        size_t start = c->pos;
        if (skip_array(c, et, n, 1, kv->key)) return -1;
        if (et == EL_GGUF_STRING) {
            /* index the strings for random access (vocabularies) */
            kv->arr_str = el_calloc(n, sizeof *kv->arr_str, c->err);
            if (!kv->arr_str) return -1;
            cursor s = *c;
            s.pos = start;
            for (uint64_t i = 0; i < n; i++) rd_str(&s, &kv->arr_str[i], "array string");
        }
    } else {
        size_t es = vtype_size(t);
        if (need(c, es, "metadata value")) return ctx_prefix(c, "key '%s'", kv->key);
        decode_scalar(kv, c->p + c->pos);
        c->pos += es;
    }
    kv->value_size = c->pos - kv->file_offset;
    return 0;
}

/* ---- tensors ---- */

static int read_tensor_info(cursor *c, el_gguf_tensor *t, uint64_t index)
{
    el_gguf_str name;
    char what[64];
    snprintf(what, sizeof what, "name of tensor %llu", (unsigned long long)index);
    if (rd_str(c, &name, what)) return -1;
    if (name.len == 0 || name.len > GGUF_MAX_NAME)
        return el_errf(c->err, "%s: tensor %llu: name length %llu is outside 1..%d", c->name,
                       (unsigned long long)index, (unsigned long long)name.len, GGUF_MAX_NAME);
    if (memchr(name.data, 0, name.len))
        return el_errf(c->err, "%s: tensor %llu: name contains a NUL byte", c->name, (unsigned long long)index);
    if (!(t->name = str_dup(&name, c->err))) return -1;
    if (rd_u32(c, &t->n_dims, "tensor dimension count")) return ctx_prefix(c, "tensor '%s'", t->name);
    if (t->n_dims > EL_GGUF_MAX_DIMS)
        return el_errf(c->err, "%s: tensor '%s' has %u dimensions, at most %d are supported", c->name,
                       t->name, t->n_dims, EL_GGUF_MAX_DIMS);
    for (int d = 0; d < EL_GGUF_MAX_DIMS; d++) t->ne[d] = 1;
    uint64_t n_el = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        uint64_t ne;
        if (rd_u64(c, &ne, "tensor dimension")) return ctx_prefix(c, "tensor '%s'", t->name);
        if (ne == 0 || ne > (uint64_t)INT64_MAX)
            return el_errf(c->err, "%s: tensor '%s': dimension %u has size %lld, expected a positive size",
                           c->name, t->name, d, (long long)ne);
        if (n_el > (uint64_t)INT64_MAX / ne)
            return el_errf(c->err, "%s: tensor '%s': element count overflows 64 bits", c->name, t->name);
        n_el *= ne;
        t->ne[d] = (int64_t)ne;
    }
    t->n_elements = n_el;
    uint32_t type;
    if (rd_u32(c, &type, "tensor type")) return ctx_prefix(c, "tensor '%s'", t->name);
    const el_type_traits *tr = el_type_info(type);
    if (!tr)
        return el_errf(c->err, "%s: tensor '%s': unknown tensor type %u", c->name, t->name, type);
    t->type = (el_type)type;
    if (t->ne[0] % tr->block_size)
        return el_errf(c->err, "%s: tensor '%s': row length %lld is not a multiple of the %s block size %lld",
                       c->name, t->name, (long long)t->ne[0], tr->name, (long long)tr->block_size);
    uint64_t blocks = n_el / (uint64_t)tr->block_size;
    if (blocks > UINT64_MAX / tr->type_size)
        return el_errf(c->err, "%s: tensor '%s': byte size overflows 64 bits", c->name, t->name);
    t->n_bytes = blocks * tr->type_size;
    if (rd_u64(c, &t->offset, "tensor data offset")) return ctx_prefix(c, "tensor '%s'", t->name);
    return 0;
}

typedef struct {
    uint64_t offset;
    uint64_t index;
} span_key;

static int cmp_span(const void *a, const void *b)
{
    uint64_t x = ((const span_key *)a)->offset, y = ((const span_key *)b)->offset;
    return x < y ? -1 : x > y;
}

/* Duplicate names: sort name pointers and compare neighbours. */
static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int check_unique(el_gguf *g, el_err *err, bool tensors)
{
    uint64_t n = tensors ? g->n_tensors : g->n_kv;
    if (n < 2) return 0;
    char **names = el_calloc(n, sizeof *names, err);
    if (!names) return -1;
    for (uint64_t i = 0; i < n; i++) names[i] = tensors ? g->tensors[i].name : g->kv[i].key;
    qsort(names, n, sizeof *names, cmp_str_ptr);
    int rc = 0;
    for (uint64_t i = 1; i < n; i++)
        if (strcmp(names[i - 1], names[i]) == 0) {
            rc = el_errf(err, "%s: duplicate %s '%s'", g->path, tensors ? "tensor name" : "metadata key", names[i]);
            break;
        }
    free(names);
    return rc;
}

static int check_tensor_data(el_gguf *g, el_err *err)
{
    uint64_t avail = g->size >= g->data_offset ? g->size - g->data_offset : 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        el_gguf_tensor *t = &g->tensors[i];
        if (t->offset % g->alignment)
            return el_errf(err, "%s: tensor '%s': data offset %llu is not a multiple of the alignment %llu",
                           g->path, t->name, (unsigned long long)t->offset, (unsigned long long)g->alignment);
        if (t->offset > avail || t->n_bytes > avail - t->offset)
            return el_errf(err, "%s: tensor '%s': data [%llu, %llu) extends past the end of the file (%llu data bytes)",
                           g->path, t->name, (unsigned long long)t->offset,
                           (unsigned long long)(t->offset + t->n_bytes), (unsigned long long)avail);
        t->data = g->map + g->data_offset + t->offset;
    }
    if (g->n_tensors < 2) return 0;
    span_key *order = el_calloc(g->n_tensors, sizeof *order, err);
    if (!order) return -1;
    for (uint64_t i = 0; i < g->n_tensors; i++) order[i] = (span_key){g->tensors[i].offset, i};
    qsort(order, g->n_tensors, sizeof *order, cmp_span);
    int rc = 0;
    for (uint64_t i = 1; i < g->n_tensors; i++) {
        const el_gguf_tensor *a = &g->tensors[order[i - 1].index], *b = &g->tensors[order[i].index];
        if (a->offset + a->n_bytes > b->offset) {
            rc = el_errf(err, "%s: tensors '%s' and '%s' overlap in the data section", g->path, a->name, b->name);
            break;
        }
    }
    free(order);
    return rc;
}

static int parse(el_gguf *g, el_err *err)
{
    cursor c = {g->map, g->size, 0, g->path, err};
    uint32_t magic;
    if (g->size < 4) return el_errf(err, "%s: not a GGUF file (only %zu bytes)", g->path, g->size);
    rd_u32(&c, &magic, "magic");
    if (magic != EL_GGUF_MAGIC)
        return el_errf(err, "%s: not a GGUF file (bad magic 0x%08x, expected \"GGUF\")", g->path, magic);
    if (rd_u32(&c, &g->version, "version")) return -1;
    if (g->version != 2 && g->version != 3)
        return el_errf(err, "%s: unsupported GGUF version %u (supported: 2, 3)", g->path, g->version);
    if (rd_u64(&c, &g->n_tensors, "tensor count") || rd_u64(&c, &g->n_kv, "metadata count")) return -1;
    /* every kv needs >= 13 bytes, every tensor info >= 29: refuse absurd counts before allocating */
    if (g->n_kv > (g->size - c.pos) / 13)
        return el_errf(err, "%s: header claims %llu metadata entries, more than the file's %zu bytes can hold",
                       g->path, (unsigned long long)g->n_kv, g->size);
    if (g->n_tensors > (g->size - c.pos) / 29)
        return el_errf(err, "%s: header claims %llu tensors, more than the file's %zu bytes can hold",
                       g->path, (unsigned long long)g->n_tensors, g->size);
    g->kv = el_calloc(g->n_kv, sizeof *g->kv, err);
    g->tensors = el_calloc(g->n_tensors, sizeof *g->tensors, err);
    if (!g->kv || !g->tensors) return -1;
    for (uint64_t i = 0; i < g->n_kv; i++)
        if (read_kv(&c, &g->kv[i], i)) return -1;
    if (check_unique(g, err, false)) return -1;

    g->alignment = EL_GGUF_DEFAULT_ALIGNMENT;
    const el_gguf_kv *al = el_gguf_find(g, "general.alignment");
    if (al) {
        if (al->type != EL_GGUF_UINT32)
            return el_errf(err, "%s: key 'general.alignment' has type %s, expected uint32", g->path,
                           el_gguf_vtype_name(al->type));
        if (al->v.u64 == 0 || (al->v.u64 & (al->v.u64 - 1)))
            return el_errf(err, "%s: key 'general.alignment' is %llu, expected a power of two", g->path,
                           (unsigned long long)al->v.u64);
        g->alignment = al->v.u64;
    }
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (read_tensor_info(&c, &g->tensors[i], i)) return -1;
    if (check_unique(g, err, true)) return -1;
    uint64_t pad = (g->alignment - c.pos % g->alignment) % g->alignment;
    g->data_offset = c.pos + pad;
    if (g->n_tensors && g->data_offset > g->size)
        return el_errf(err, "%s: file truncated before the tensor data section (byte %llu)", g->path,
                       (unsigned long long)g->data_offset);
    return check_tensor_data(g, err);
}

static el_gguf *open_common(const uint8_t *map, size_t size, int owns, const char *name, el_err *err)
{
    el_gguf *g = el_calloc(1, sizeof *g, err);
    if (!g) {
        if (owns && map) munmap((void *)map, size);
        return NULL;
    }
    g->map = map;
    g->size = size;
    g->owns_map = owns;
    g->path = strdup(name ? name : "(memory)");
    if (!g->path) {
        el_errf(err, "out of memory");
        el_gguf_close(g);
        return NULL;
    }
    if (parse(g, err)) {
        el_gguf_close(g);
        return NULL;
    }
    return g;
}

el_gguf *el_gguf_open(const char *path, el_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        el_errf(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        el_errf(err, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    size_t size = (size_t)st.st_size;
    const uint8_t *map = NULL;
    if (size > 0) {
        void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            el_errf(err, "%s: cannot map %zu bytes: %s", path, size, strerror(errno));
            close(fd);
            return NULL;
        }
        map = m;
    }
    close(fd);
    if (size == 0) {
        el_errf(err, "%s: empty file, not a GGUF file", path);
        return NULL;
    }
    return open_common(map, size, 1, path, err);
}

el_gguf *el_gguf_open_memory(const void *buf, size_t size, const char *name, el_err *err)
{
    if (!buf || size == 0) {
        el_errf(err, "%s: empty buffer, not a GGUF file", name ? name : "(memory)");
        return NULL;
    }
    return open_common(buf, size, 0, name, err);
}

void el_gguf_close(el_gguf *g)
{
    if (!g) return;
    if (g->kv)
        for (uint64_t i = 0; i < g->n_kv; i++) {
            free(g->kv[i].key);
            free(g->kv[i].arr_str);
        }
    if (g->tensors)
        for (uint64_t i = 0; i < g->n_tensors; i++) free(g->tensors[i].name);
    free(g->kv);
    free(g->tensors);
    if (g->owns_map && g->map) munmap((void *)g->map, g->size);
    free(g->path);
    free(g);
}

/* ---- lookup ---- */

int64_t el_gguf_find_index(const el_gguf *g, const char *key)
{
    for (uint64_t i = 0; i < g->n_kv; i++)
        if (strcmp(g->kv[i].key, key) == 0) return (int64_t)i;
    return -1;
}

const el_gguf_kv *el_gguf_find(const el_gguf *g, const char *key)
{
    int64_t i = el_gguf_find_index(g, key);
    return i < 0 ? NULL : &g->kv[i];
}

const el_gguf_tensor *el_gguf_find_tensor(const el_gguf *g, const char *name)
{
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (strcmp(g->tensors[i].name, name) == 0) return &g->tensors[i];
    return NULL;
}

static const el_gguf_kv *find_req(const el_gguf *g, const char *key, el_err *err)
{
    const el_gguf_kv *kv = el_gguf_find(g, key);
    if (!kv) el_errf(err, "%s: missing required key '%s'", g->path, key);
    return kv;
}

static bool is_signed_int(el_gguf_vtype t)
{
    return t == EL_GGUF_INT8 || t == EL_GGUF_INT16 || t == EL_GGUF_INT32 || t == EL_GGUF_INT64;
}

static bool is_unsigned_int(el_gguf_vtype t)
{
    return t == EL_GGUF_UINT8 || t == EL_GGUF_UINT16 || t == EL_GGUF_UINT32 || t == EL_GGUF_UINT64;
}

int el_gguf_get_i64(const el_gguf *g, const char *key, int64_t *out, el_err *err)
{
    const el_gguf_kv *kv = find_req(g, key, err);
    if (!kv) return -1;
    if (is_signed_int(kv->type)) *out = kv->v.i64;
    else if (is_unsigned_int(kv->type) && kv->v.u64 <= (uint64_t)INT64_MAX) *out = (int64_t)kv->v.u64;
    else
        return el_errf(err, "%s: key '%s' has type %s, expected an integer", g->path, key,
                       el_gguf_vtype_name(kv->type));
    return 0;
}

int el_gguf_get_u32(const el_gguf *g, const char *key, uint32_t *out, el_err *err)
{
    int64_t v;
    if (el_gguf_get_i64(g, key, &v, err)) return -1;
    if (v < 0 || v > (int64_t)UINT32_MAX)
        return el_errf(err, "%s: key '%s' is %lld, expected a value in [0, 4294967295]", g->path, key,
                       (long long)v);
    *out = (uint32_t)v;
    return 0;
}

int el_gguf_get_f32(const el_gguf *g, const char *key, float *out, el_err *err)
{
    const el_gguf_kv *kv = find_req(g, key, err);
    if (!kv) return -1;
    if (kv->type == EL_GGUF_FLOAT32 || kv->type == EL_GGUF_FLOAT64) *out = (float)kv->v.f64;
    else if (is_signed_int(kv->type)) *out = (float)kv->v.i64;
    else if (is_unsigned_int(kv->type)) *out = (float)kv->v.u64;
    else
        return el_errf(err, "%s: key '%s' has type %s, expected a number", g->path, key,
                       el_gguf_vtype_name(kv->type));
    return 0;
}

int el_gguf_get_bool(const el_gguf *g, const char *key, bool *out, el_err *err)
{
    const el_gguf_kv *kv = find_req(g, key, err);
    if (!kv) return -1;
    if (kv->type != EL_GGUF_BOOL)
        return el_errf(err, "%s: key '%s' has type %s, expected bool", g->path, key,
                       el_gguf_vtype_name(kv->type));
    *out = kv->v.b;
    return 0;
}

int el_gguf_get_str(const el_gguf *g, const char *key, char **out, el_err *err)
{
    const el_gguf_kv *kv = find_req(g, key, err);
    if (!kv) return -1;
    if (kv->type != EL_GGUF_STRING)
        return el_errf(err, "%s: key '%s' has type %s, expected string", g->path, key,
                       el_gguf_vtype_name(kv->type));
    *out = str_dup(&kv->v.str, err);
    return *out ? 0 : -1;
}

const el_gguf_kv *el_gguf_get_arr(const el_gguf *g, const char *key, el_gguf_vtype elem_type, el_err *err)
{
    const el_gguf_kv *kv = find_req(g, key, err);
    if (!kv) return NULL;
    if (kv->type != EL_GGUF_ARRAY || kv->arr_type != elem_type) {
        el_errf(err, "%s: key '%s' has type %s%s%s, expected array of %s", g->path, key,
                el_gguf_vtype_name(kv->type), kv->type == EL_GGUF_ARRAY ? " of " : "",
                kv->type == EL_GGUF_ARRAY ? el_gguf_vtype_name(kv->arr_type) : "",
                el_gguf_vtype_name(elem_type));
        return NULL;
    }
    return kv;
}
