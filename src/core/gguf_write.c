/* gguf_write.c -- GGUF writer (versions 2 and 3).
 *
 * Metadata values are serialised into small byte buffers as they are set;
 * tensors are only described (their data stays with the caller). Writing
 * lays out: header | kvs | tensor infos | zero padding to the alignment |
 * each tensor's bytes, every tensor starting on a multiple of the alignment
 * (general.alignment when set, else 32) relative to the data section, in the
 * order the tensors were added. The file is written to OUT.tmp.PID, fsync'd
 * and renamed over OUT, so OUT is either the old file or the complete new one.
 */
#include "edgelm/gguf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    char *key;
    el_gguf_vtype type;
    uint8_t *val; /* serialised value (what follows the type field) */
    size_t len;
} wkv;

typedef struct {
    char *name;
    uint32_t n_dims;
    int64_t ne[EL_GGUF_MAX_DIMS];
    el_type type;
    const void *data;
    uint64_t n_bytes;
} wtensor;

struct el_gguf_writer {
    uint32_t version;
    wkv *kv;
    size_t n_kv, cap_kv;
    wtensor *t;
    size_t n_t, cap_t;
};

el_gguf_writer *el_gguf_writer_new(uint32_t version, el_err *err)
{
    if (version != 2 && version != 3) {
        el_errf(err, "gguf writer: version %u is not supported (2 or 3)", version);
        return NULL;
    }
    el_gguf_writer *w = el_calloc(1, sizeof *w, err);
    if (w) w->version = version;
    return w;
}

void el_gguf_writer_free(el_gguf_writer *w)
{
    if (!w) return;
    for (size_t i = 0; i < w->n_kv; i++) {
        free(w->kv[i].key);
        free(w->kv[i].val);
    }
    for (size_t i = 0; i < w->n_t; i++) free(w->t[i].name);
    free(w->kv);
    free(w->t);
    free(w);
}

/* Grow an array of `size`-byte items to hold at least n+1. */
static int grow(void **arr, size_t *cap, size_t n, size_t size, el_err *err)
{
    if (n < *cap) return 0;
    size_t nc = *cap ? *cap * 2 : 16;
    if (nc > SIZE_MAX / size) return el_errf(err, "gguf writer: out of memory");
    void *p = realloc(*arr, nc * size);
    if (!p) return el_errf(err, "gguf writer: out of memory (%zu bytes)", nc * size);
    *arr = p;
    *cap = nc;
    return 0;
}

/* Set key to an already serialised value; takes ownership of val (freed on
 * failure too). A key set twice keeps its first position, with the new value. */
static int set_value(el_gguf_writer *w, const char *key, el_gguf_vtype type, uint8_t *val, size_t len,
                     el_err *err)
{
    if (!key || !*key) {
        free(val);
        return el_errf(err, "gguf writer: empty metadata key");
    }
    for (size_t i = 0; i < w->n_kv; i++)
        if (strcmp(w->kv[i].key, key) == 0) {
            free(w->kv[i].val);
            w->kv[i].type = type;
            w->kv[i].val = val;
            w->kv[i].len = len;
            return 0;
        }
    char *k = strdup(key);
    if (!k || grow((void **)&w->kv, &w->cap_kv, w->n_kv, sizeof *w->kv, err)) {
        free(k);
        free(val);
        return k ? -1 : el_errf(err, "gguf writer: out of memory");
    }
    w->kv[w->n_kv++] = (wkv){k, type, val, len};
    return 0;
}

static int set_scalar(el_gguf_writer *w, const char *key, el_gguf_vtype type, const void *v, size_t n,
                      el_err *err)
{
    uint8_t *val = el_malloc(n, err);
    if (!val) return -1;
    memcpy(val, v, n); /* little-endian host */
    return set_value(w, key, type, val, n, err);
}

int el_gguf_writer_set_u32(el_gguf_writer *w, const char *key, uint32_t v, el_err *err)
{
    return set_scalar(w, key, EL_GGUF_UINT32, &v, 4, err);
}

int el_gguf_writer_set_i32(el_gguf_writer *w, const char *key, int32_t v, el_err *err)
{
    return set_scalar(w, key, EL_GGUF_INT32, &v, 4, err);
}

int el_gguf_writer_set_u64(el_gguf_writer *w, const char *key, uint64_t v, el_err *err)
{
    return set_scalar(w, key, EL_GGUF_UINT64, &v, 8, err);
}

int el_gguf_writer_set_f32(el_gguf_writer *w, const char *key, float v, el_err *err)
{
    return set_scalar(w, key, EL_GGUF_FLOAT32, &v, 4, err);
}

int el_gguf_writer_set_bool(el_gguf_writer *w, const char *key, bool v, el_err *err)
{
    uint8_t b = v ? 1 : 0;
    return set_scalar(w, key, EL_GGUF_BOOL, &b, 1, err);
}

int el_gguf_writer_set_str(el_gguf_writer *w, const char *key, const char *v, el_err *err)
{
    if (!v) return el_errf(err, "gguf writer: key '%s': NULL string", key ? key : "");
    uint64_t n = strlen(v);
    uint8_t *val = el_malloc(8 + n, err);
    if (!val) return -1;
    memcpy(val, &n, 8);
    memcpy(val + 8, v, n);
    return set_value(w, key, EL_GGUF_STRING, val, 8 + n, err);
}

static size_t fixed_size(el_gguf_vtype t)
{
    switch (t) {
    case EL_GGUF_UINT8: case EL_GGUF_INT8: case EL_GGUF_BOOL: return 1;
    case EL_GGUF_UINT16: case EL_GGUF_INT16: return 2;
    case EL_GGUF_UINT32: case EL_GGUF_INT32: case EL_GGUF_FLOAT32: return 4;
    case EL_GGUF_UINT64: case EL_GGUF_INT64: case EL_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

int el_gguf_writer_set_arr(el_gguf_writer *w, const char *key, el_gguf_vtype elem_type, const void *data,
                           uint64_t n, el_err *err)
{
    size_t es = fixed_size(elem_type);
    if (!es)
        return el_errf(err, "gguf writer: key '%s': array element type %s is not a fixed-size type", key,
                       el_gguf_vtype_name(elem_type));
    if (n && !data) return el_errf(err, "gguf writer: key '%s': NULL array data", key);
    if (n > (SIZE_MAX - 12) / es) return el_errf(err, "gguf writer: key '%s': array of %llu elements is too large", key, (unsigned long long)n);
    size_t len = 12 + (size_t)n * es;
    uint8_t *val = el_malloc(len, err);
    if (!val) return -1;
    uint32_t et = elem_type;
    memcpy(val, &et, 4);
    memcpy(val + 4, &n, 8);
    if (n) memcpy(val + 12, data, (size_t)n * es);
    return set_value(w, key, EL_GGUF_ARRAY, val, len, err);
}

int el_gguf_writer_set_str_arr(el_gguf_writer *w, const char *key, const char *const *strs,
                               const uint64_t *lens, uint64_t n, el_err *err)
{
    size_t len = 12;
    if (n && !strs) return el_errf(err, "gguf writer: key '%s': NULL string array", key);
    for (uint64_t i = 0; i < n; i++) {
        if (!strs[i] && (!lens || lens[i])) return el_errf(err, "gguf writer: key '%s': string %llu is NULL", key, (unsigned long long)i);
        uint64_t l = lens ? lens[i] : strlen(strs[i]);
        if (l > SIZE_MAX - len - 8) return el_errf(err, "gguf writer: key '%s': string array too large", key);
        len += 8 + (size_t)l;
    }
    uint8_t *val = el_malloc(len, err);
    if (!val) return -1;
    uint32_t et = EL_GGUF_STRING;
    memcpy(val, &et, 4);
    memcpy(val + 4, &n, 8);
    size_t p = 12;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t l = lens ? lens[i] : strlen(strs[i]);
        memcpy(val + p, &l, 8);
        if (l) memcpy(val + p + 8, strs[i], (size_t)l);
        p += 8 + (size_t)l;
    }
    return set_value(w, key, EL_GGUF_ARRAY, val, len, err);
}

/* Walk one serialised value of type t in [p, p+len) and return its size, or
 * 0 when it is malformed (for el_gguf_writer_set_raw). */
static size_t value_extent(const uint8_t *p, size_t len, uint32_t t, int depth)
{
    size_t es = fixed_size((el_gguf_vtype)t);
    if (es) return es <= len ? es : 0;
    if (t == EL_GGUF_STRING) {
        uint64_t n;
        if (len < 8) return 0;
        memcpy(&n, p, 8);
        return n <= len - 8 ? 8 + (size_t)n : 0;
    }
    if (t != EL_GGUF_ARRAY || depth > 8 || len < 12) return 0;
    uint32_t et;
    uint64_t n;
    memcpy(&et, p, 4);
    memcpy(&n, p + 4, 8);
    size_t pos = 12;
    if (et >= EL_GGUF_VTYPE_COUNT) return 0;
    if ((es = fixed_size((el_gguf_vtype)et))) return n <= (len - pos) / es ? pos + (size_t)n * es : 0;
    for (uint64_t i = 0; i < n; i++) {
        size_t e = value_extent(p + pos, len - pos, et, depth + 1);
        if (!e) return 0;
        pos += e;
    }
    return pos;
}

int el_gguf_writer_set_raw(el_gguf_writer *w, const char *key, el_gguf_vtype type, const void *value,
                           size_t len, el_err *err)
{
    if (!value) return el_errf(err, "gguf writer: key '%s': NULL value", key ? key : "");
    if ((unsigned)type >= EL_GGUF_VTYPE_COUNT || value_extent(value, len, type, 0) != len)
        return el_errf(err, "gguf writer: key '%s': %zu bytes are not one well-formed %s value", key, len,
                       el_gguf_vtype_name(type));
    uint8_t *val = el_malloc(len ? len : 1, err);
    if (!val) return -1;
    memcpy(val, value, len);
    return set_value(w, key, type, val, len, err);
}

int el_gguf_writer_copy_kv(el_gguf_writer *w, const el_gguf *src, const el_gguf_kv *kv, el_err *err)
{
    if (kv->file_offset > src->size || kv->value_size > src->size - kv->file_offset)
        return el_errf(err, "%s: key '%s': value lies outside the file", src->path, kv->key);
    return el_gguf_writer_set_raw(w, kv->key, kv->type, src->map + kv->file_offset, (size_t)kv->value_size, err);
}

int el_gguf_writer_add_tensor(el_gguf_writer *w, const char *name, el_type type, uint32_t n_dims,
                              const int64_t *ne, const void *data, el_err *err)
{
    const el_type_traits *tr = el_type_info((uint32_t)type);
    size_t nl = name ? strlen(name) : 0;
    if (nl == 0 || nl > 256) return el_errf(err, "gguf writer: tensor name length %zu is outside 1..256", nl);
    if (!tr) return el_errf(err, "gguf writer: tensor '%s': unknown type %u", name, (unsigned)type);
    if (n_dims < 1 || n_dims > EL_GGUF_MAX_DIMS)
        return el_errf(err, "gguf writer: tensor '%s': %u dimensions, expected 1..%d", name, n_dims, EL_GGUF_MAX_DIMS);
    uint64_t n_el = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        if (ne[d] <= 0) return el_errf(err, "gguf writer: tensor '%s': dimension %u is %lld", name, d, (long long)ne[d]);
        if (n_el > (uint64_t)INT64_MAX / (uint64_t)ne[d])
            return el_errf(err, "gguf writer: tensor '%s': element count overflows", name);
        n_el *= (uint64_t)ne[d];
    }
    if (ne[0] % tr->block_size)
        return el_errf(err, "gguf writer: tensor '%s': row length %lld is not a multiple of the %s block size %lld",
                       name, (long long)ne[0], tr->name, (long long)tr->block_size);
    size_t nb = el_row_size(type, (int64_t)n_el);
    if (!nb) return el_errf(err, "gguf writer: tensor '%s': byte size overflows", name);
    if (!data) return el_errf(err, "gguf writer: tensor '%s': no data", name);
    for (size_t i = 0; i < w->n_t; i++)
        if (strcmp(w->t[i].name, name) == 0) return el_errf(err, "gguf writer: duplicate tensor name '%s'", name);
    char *nm = strdup(name);
    if (!nm || grow((void **)&w->t, &w->cap_t, w->n_t, sizeof *w->t, err)) {
        free(nm);
        return nm ? -1 : el_errf(err, "gguf writer: out of memory");
    }
    wtensor *t = &w->t[w->n_t++];
    memset(t, 0, sizeof *t);
    t->name = nm;
    t->n_dims = n_dims;
    for (int d = 0; d < EL_GGUF_MAX_DIMS; d++) t->ne[d] = d < (int)n_dims ? ne[d] : 1;
    t->type = type;
    t->data = data;
    t->n_bytes = nb;
    return 0;
}

/* ---- output ---- */

typedef struct {
    FILE *f;
    const char *path;
    uint64_t pos;
    el_err *err;
    int failed;
} out;

static int put(out *o, const void *p, size_t n)
{
    if (o->failed) return -1;
    if (n && fwrite(p, 1, n, o->f) != n) {
        o->failed = 1;
        return el_errf(o->err, "%s: write failed at byte %llu: %s", o->path, (unsigned long long)o->pos, strerror(errno));
    }
    o->pos += n;
    return 0;
}

static int put_u32(out *o, uint32_t v) { return put(o, &v, 4); }
static int put_u64(out *o, uint64_t v) { return put(o, &v, 8); }

static int put_zeros(out *o, uint64_t n)
{
    static const uint8_t zeros[64];
    while (n) {
        size_t k = n < sizeof zeros ? (size_t)n : sizeof zeros;
        if (put(o, zeros, k)) return -1;
        n -= k;
    }
    return 0;
}

static uint64_t align_up(uint64_t x, uint64_t a)
{
    return (x + a - 1) / a * a;
}

static int writer_alignment(const el_gguf_writer *w, uint64_t *align, el_err *err)
{
    *align = EL_GGUF_DEFAULT_ALIGNMENT;
    for (size_t i = 0; i < w->n_kv; i++) {
        if (strcmp(w->kv[i].key, "general.alignment")) continue;
        uint32_t a;
        if (w->kv[i].type != EL_GGUF_UINT32)
            return el_errf(err, "gguf writer: key 'general.alignment' has type %s, expected uint32",
                           el_gguf_vtype_name(w->kv[i].type));
        memcpy(&a, w->kv[i].val, 4);
        if (a == 0 || (a & (a - 1)))
            return el_errf(err, "gguf writer: key 'general.alignment' is %u, expected a power of two", a);
        *align = a;
    }
    return 0;
}

static int write_all(const el_gguf_writer *w, out *o, uint64_t align)
{
    put_u32(o, EL_GGUF_MAGIC);
    put_u32(o, w->version);
    put_u64(o, w->n_t);
    put_u64(o, w->n_kv);
    for (size_t i = 0; i < w->n_kv; i++) {
        uint64_t kl = strlen(w->kv[i].key);
        put_u64(o, kl);
        put(o, w->kv[i].key, kl);
        put_u32(o, (uint32_t)w->kv[i].type);
        put(o, w->kv[i].val, w->kv[i].len);
    }
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        const wtensor *t = &w->t[i];
        uint64_t nl = strlen(t->name);
        put_u64(o, nl);
        put(o, t->name, nl);
        put_u32(o, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++) put_u64(o, (uint64_t)t->ne[d]);
        put_u32(o, (uint32_t)t->type);
        put_u64(o, off);
        off = align_up(off + t->n_bytes, align);
    }
    put_zeros(o, align_up(o->pos, align) - o->pos);
    uint64_t data_start = o->pos;
    for (size_t i = 0; i < w->n_t; i++) {
        put(o, w->t[i].data, w->t[i].n_bytes);
        /* pad after every tensor, the last one too (as ggml's writer does) */
        put_zeros(o, align_up(o->pos - data_start, align) - (o->pos - data_start));
    }
    return o->failed ? -1 : 0;
}

/* Make the rename durable (best effort: some file systems refuse). */
static void sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == path) snprintf(dir, sizeof dir, "/");
    else if ((size_t)(slash - path) < sizeof dir) snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    (void)fsync(fd);
    close(fd);
}

int el_gguf_writer_write(el_gguf_writer *w, const char *path, el_err *err)
{
    uint64_t align;
    if (writer_alignment(w, &align, err)) return el_err_prefix(err, "%s", path);
    size_t tl = strlen(path) + 32;
    char *tmp = el_malloc(tl, err);
    if (!tmp) return -1;
    snprintf(tmp, tl, "%s.tmp.%ld", path, (long)getpid());
    int slot = el_tmpfile_register(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        el_errf(err, "%s: cannot create: %s", tmp, strerror(errno));
        el_tmpfile_unregister(slot);
        free(tmp);
        return -1;
    }
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        el_errf(err, "%s: cannot open for writing: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        el_tmpfile_unregister(slot);
        free(tmp);
        return -1;
    }
    out o = {f, tmp, 0, err, 0};
    int rc = write_all(w, &o, align);
    if (rc == 0 && (fflush(f) != 0 || fsync(fileno(f)) != 0))
        rc = el_errf(err, "%s: cannot flush to disk: %s", tmp, strerror(errno));
    if (fclose(f) != 0 && rc == 0) rc = el_errf(err, "%s: close failed: %s", tmp, strerror(errno));
    if (rc == 0 && rename(tmp, path) != 0) rc = el_errf(err, "%s: cannot rename %s into place: %s", path, tmp, strerror(errno));
    if (rc) unlink(tmp);
    else sync_parent_dir(path);
    el_tmpfile_unregister(slot);
    free(tmp);
    return rc;
}
