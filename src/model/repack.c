/* repack.c -- 16-row interleaved weight layouts and their AVX-512 VNNI
 * kernels (see repack.h for the layouts). */
#include "repack.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../core/quant_blocks.h"
#include "edgelm/types.h"
#include "fdot.h"
#include "qdot.h"

#define G 16 /* rows per group */

/* Bytes of one group's block (one source block of every row); for the
 * blocks of 32 (q8_0, q4_0, q5_0) a pair of blocks (see pair_code_bytes).
 * Every layout is read front to back by the kernels and every 64-byte load is
 * aligned: with the scales of a whole row apart from its codes, or the parts
 * of a q6_K block in separate regions, decode read memory at half the speed
 * (measured: q6_K 10 -> 26 GB/s on one core once the access is one forward
 * stream). */
static size_t pair_code_bytes(el_type t);
static size_t blk_bytes(el_type t)
{
    switch (t) {
    case EL_TYPE_Q8_0:
    case EL_TYPE_Q4_0:
    case EL_TYPE_Q5_0: return 64 + 2 * pair_code_bytes(t);             /* a pair of blocks */
    case EL_TYPE_Q4_K: return 32 + 32 + 8 * G + 4 * 2 * G + 128 * G; /* 2368 */
    case EL_TYPE_Q5_K: return 32 + 32 + 8 * G + 4 * 2 * G + 8 * 320;   /* 2880 */
    case EL_TYPE_Q6_K: return 64 + 16 * G + 16 * 192;                /* 3392 */
    case EL_TYPE_F16:
    case EL_TYPE_BF16: return 2 * G;                                   /* one element of 16 rows */
    default: return 0;
    }
}
/* Types with blocks of 32 and one scale each, packed in pairs of blocks. */
static bool is_small(el_type t) { return t == EL_TYPE_Q8_0 || t == EL_TYPE_Q4_0 || t == EL_TYPE_Q5_0; }
/* F16 and BF16 keep their rows as they are (16 whole rows per group), only
 * moved into the huge-page arena; the float kernels of fdot.h read them. */
static bool is_float(el_type t) { return t == EL_TYPE_F16 || t == EL_TYPE_BF16; }
static int blk_len(el_type t) { return is_float(t) ? 1 : is_small(t) ? 32 : 256; }

/* Codes of one block of 32 for 16 rows: q8_0 8 x 64 B (code + 128); q4_0 4 x
 * 64 B of nibbles (low nibble: codes 0..3 of an 8-code step, high: 4..7);
 * q5_0 the fifth bits (64 B, see pack_block) and then the nibbles as q4_0. */
static size_t pair_code_bytes(el_type t) { return t == EL_TYPE_Q8_0 ? 512 : t == EL_TYPE_Q4_0 ? 256 : 320; }

/* The blocks of 32 go by pairs: the two blocks' 16 scales each (64 B), then
 * the two code blocks; an odd last block leaves its pair half full. */
static size_t sb_scale_off(el_type t, int64_t b) { return (size_t)(b / 2) * blk_bytes(t) + 32 * (size_t)(b % 2); }
static size_t sb_code_off(el_type t, int64_t b)
{
    return (size_t)(b / 2) * blk_bytes(t) + 64 + pair_code_bytes(t) * (size_t)(b % 2);
}
static size_t q8_scale_off(int64_t b) { return sb_scale_off(EL_TYPE_Q8_0, b); }
static size_t q8_code_off(int64_t b) { return sb_code_off(EL_TYPE_Q8_0, b); }
static size_t group_bytes(el_type t, int64_t nb)
{
    if (is_float(t)) return (size_t)nb * 2 * G;
    if (is_small(t)) return (size_t)(nb / 2) * blk_bytes(t) + (nb % 2 ? 64 + pair_code_bytes(t) : 0);
    return (size_t)nb * blk_bytes(t);
}
/* q5_K, within a block of 256: as q4_K up to the mins (320 B), then per
 * sub-block j of 32 the fifth bits (64 B, as q5_0's) and the nibbles (as q4_K). */
#define Q5K_HB(j) (320 + 320 * (j))
#define Q5K_NIB(j, h) (320 + 320 * (j) + 64 + 64 * (h))
/* q6_K, within a block of 256: d (32 B + 32 padding), the 16 x 16 scales, then
 * per sub-block j of 16 the high two bits (64 B) and two steps of nibbles. */
#define Q6_HIB(j) (320 + 192 * (j))
#define Q6_NIB(j, h) (320 + 192 * (j) + 64 + 64 * (h))

/* Activation block of the k-quant kernels: codes as el_act_q8k, with the sums
 * the packed kernels want ready to broadcast. */
typedef struct act_x16k {
    float d;
    int32_t bias6[16];  /* -32 * (sum of each 16 codes): q6_K's zero point */
    int16_t bsum32[8];  /* sum of each 32 codes: q4_K's mins */
    int8_t qs[256];
} act_x16k;

/* one group of 16 rows (nrows of them real) against nc activation rows */
typedef void (*pk_fn)(const uint8_t *g, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy, int nrows,
                      int nc);

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_X16 1
#elif defined(__aarch64__) && defined(__GNUC__)
#define HAVE_NEON16 1
#endif

static bool isa_runs(el_pk_isa isa)
{
#ifdef HAVE_X16
    const el_cpu_features *f = el_cpu();
    bool base = f->avx2 && f->fma && f->f16c;
    switch (isa) {
    case EL_PK_AVX512: return base && f->avx512f && f->avx512bw && f->avx512vl && f->avx512vnni;
    case EL_PK_VNNI256: return base && f->avx512vl && f->avx512vnni;
    case EL_PK_AVXVNNI: return base && f->avxvnni;
    case EL_PK_AVX2: return base;
    default: return false;
    }
#elif defined(HAVE_NEON16)
    return isa == EL_PK_NEON && el_cpu()->neon_dotprod;
#else
    (void)isa;
    return false;
#endif
}

el_pk_isa el_repack_isa(void)
{
    static int best = -1;
    if (best < 0) {
        const char *e = getenv("EL_REPACK"), *k = getenv("EL_KERNELS");
        best = isa_runs(EL_PK_AVX512) ? EL_PK_AVX512 : isa_runs(EL_PK_AVXVNNI) ? EL_PK_AVXVNNI
             : isa_runs(EL_PK_AVX2) ? EL_PK_AVX2 : isa_runs(EL_PK_NEON) ? EL_PK_NEON : EL_PK_NONE;
        if (k && strcmp(k, "avx2") == 0 && isa_runs(EL_PK_AVX2)) best = EL_PK_AVX2;   /* as the row kernels */
        else if (k && strcmp(k, "vnni") != 0 && strcmp(k, "neon") != 0) best = EL_PK_NONE;   /* scalar */
        if (e && strcmp(e, "0") == 0) best = EL_PK_NONE;
    }
    return (el_pk_isa)best;
}

const char *el_pk_isa_name(el_pk_isa isa)
{
    static const char *names[] = {"none", "avx2", "avx512vl-vnni ymm", "avx512-vnni", "avx-vnni", "neon-dotprod"};
    return (unsigned)isa < sizeof names / sizeof names[0] ? names[isa] : "?";
}

static pk_fn kernel_for(el_type t, el_pk_isa isa);
bool el_repack_supports(el_type t, el_pk_isa isa)
{
    return isa_runs(isa) && blk_bytes(t) && kernel_for(t, isa);
}

int el_packed_act_kind(const el_packed *p) { return is_float(p->type) ? 0 : is_small(p->type) ? 1 : 2; }

bool el_repack_wanted(const el_gguf_tensor *W)
{
    el_pk_isa isa = el_repack_isa();
    if (isa == EL_PK_NONE || W->n_dims > 2 || W->ne[1] < G) return false;
    /* float rows: whole 64-byte steps, so every group stays aligned */
    return el_repack_supports(W->type, isa) && W->ne[0] % (is_float(W->type) ? 32 : blk_len(W->type)) == 0;
}

int el_packed_max_nc(const el_packed *p)
{
    if (is_float(p->type)) return 4;   /* the fdot kernels' activation rows */
    return p->isa == EL_PK_AVX512 ? 8 : p->isa == EL_PK_NEON ? 2 : 4;
}

size_t el_packed_bytes(const el_packed *p) { return (size_t)p->groups * p->group_bytes; }

void el_packed_free(el_packed *p)
{
    if (p && p->owns_data) free(p->data);
    free(p);
}

#define HUGE_BYTES ((size_t)2 << 20)

static float h2f(uint16_t h) { return el_fp16_to_fp32(h); }

/* The codes of one source block in element order, unsigned (q8_0: + 128;
 * q4_0 and q5_0 as stored, their zero points 8 and 16 left in). */
static void block_codes(el_type t, const void *src, uint8_t *u)
{
    if (t == EL_TYPE_Q8_0) {
        const el_block_q8_0 *b = src;
        for (int k = 0; k < 32; k++) u[k] = (uint8_t)(b->qs[k] ^ 0x80);
    } else if (t == EL_TYPE_Q4_0) {
        const el_block_q4_0 *b = src;
        for (int k = 0; k < 16; k++) u[k] = b->qs[k] & 15, u[k + 16] = b->qs[k] >> 4;
    } else if (t == EL_TYPE_Q5_0) {
        const el_block_q5_0 *b = src;
        uint32_t qh;
        memcpy(&qh, b->qh, 4);
        for (int k = 0; k < 16; k++) {
            u[k] = (uint8_t)((b->qs[k] & 15) | ((qh >> k) & 1) << 4);
            u[k + 16] = (uint8_t)((b->qs[k] >> 4) | ((qh >> (k + 16)) & 1) << 4);
        }
    } else if (t == EL_TYPE_Q4_K) {
        const el_block_q4_K *b = src;
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++) {
                u[64 * c + l] = b->qs[32 * c + l] & 15;
                u[64 * c + 32 + l] = b->qs[32 * c + l] >> 4;
            }
    } else if (t == EL_TYPE_Q5_K) {
        const el_block_q5_K *b = src;
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++) {
                u[64 * c + l] = (uint8_t)((b->qs[32 * c + l] & 15) | ((b->qh[l] >> (2 * c)) & 1) << 4);
                u[64 * c + 32 + l] = (uint8_t)((b->qs[32 * c + l] >> 4) | ((b->qh[l] >> (2 * c + 1)) & 1) << 4);
            }
    } else {
        const el_block_q6_K *b = src;
        const uint8_t *ql = b->ql, *qh = b->qh;
        for (int half = 0; half < 2; half++, ql += 64, qh += 32, u += 128)
            for (int l = 0; l < 32; l++) {
                u[l] = (uint8_t)((ql[l] & 15) | ((qh[l] & 3) << 4));
                u[l + 32] = (uint8_t)((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4));
                u[l + 64] = (uint8_t)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
                u[l + 96] = (uint8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
            }
    }
}

/* 32 codes of row rr (below 32) as four 64-byte steps of nibbles at nib
 * (step h: codes 8h..8h+3 low, 8h+4..8h+7 high) and, if hb, their fifth bits
 * at hb: byte i of the row's four holds the fifth bit of step h's low nibble
 * i at bit 2h and of its high nibble i at bit 2h + 1, so that one 16-bit
 * shift per step and nibble brings them to bit 4. */
static void pack_run32(const uint8_t *c, int rr, uint8_t *nib, uint8_t *hb)
{
    uint8_t w[4];
    for (int h = 0; h < 4; h++) {
        for (int i = 0; i < 4; i++) w[i] = (uint8_t)((c[8 * h + i] & 15) | (c[8 * h + 4 + i] & 15) << 4);
        memcpy(nib + h * 64 + rr * 4, w, 4);
    }
    if (hb)
        for (int i = 0; i < 4; i++) {
            int v = 0;
            for (int h = 0; h < 4; h++) v |= (c[8 * h + i] >> 4) << (2 * h) | (c[8 * h + 4 + i] >> 4) << (2 * h + 1);
            hb[rr * 4 + i] = (uint8_t)v;
        }
}

/* One block of row rr into the group's block at dst (blocks of 32: the codes
 * only; the scale goes in front of the pair). src NULL: a padding row at its
 * zero point (its scale is 0). */
static void pack_block(el_type t, const void *src, int rr, uint8_t *dst)
{
    uint8_t u[256], w[4];
    if (src) block_codes(t, src, u);
    else memset(u, t == EL_TYPE_Q8_0 ? 0x80 : t == EL_TYPE_Q6_K ? 32 : t == EL_TYPE_Q5_0 ? 16 : t == EL_TYPE_Q4_0 ? 8 : 0,
                sizeof u);
    if (t == EL_TYPE_Q8_0) {
        for (int k = 0; k < 8; k++) memcpy(dst + k * 64 + rr * 4, u + 4 * k, 4);
    } else if (t == EL_TYPE_Q4_0) {
        pack_run32(u, rr, dst, NULL);
    } else if (t == EL_TYPE_Q5_0) {
        pack_run32(u, rr, dst + 64, dst);
    } else if (t == EL_TYPE_Q4_K || t == EL_TYPE_Q5_K) {
        const el_block_q4_K *b4 = src;   /* q5_K starts as q4_K: d, dmin, scales */
        uint16_t d = b4 ? b4->d : 0, dm = b4 ? b4->dmin : 0;
        memcpy(dst + 2 * rr, &d, 2);
        memcpy(dst + 32 + 2 * rr, &dm, 2);
        uint8_t *sc = dst + 64, *mn = sc + 8 * G, *nib = mn + 8 * G;
        for (int j = 0; j < 8; j++) {
            int s = 0, m = 0;
            if (b4) el_k4_scale_min(j, b4->scales, &s, &m);
            sc[j * G + rr] = (uint8_t)s;
            mn[(j / 2) * 2 * G + rr * 2 + (j & 1)] = (uint8_t)m;
            if (t == EL_TYPE_Q5_K) pack_run32(u + 32 * j, rr, dst + Q5K_NIB(j, 0), dst + Q5K_HB(j));
            else pack_run32(u + 32 * j, rr, nib + j * 4 * 64, NULL);
        }
    } else { /* q6_K */
        const el_block_q6_K *b = src;
        uint16_t d = b ? b->d : 0;
        memcpy(dst + 2 * rr, &d, 2);
        for (int j = 0; j < 16; j++) {
            dst[64 + j * G + rr] = (uint8_t)(b ? b->scales[j] : 0);
            const uint8_t *c = u + 16 * j;
            uint8_t hv[4];
            for (int i = 0; i < 4; i++)
                hv[i] = (uint8_t)((c[i] >> 4) | (c[4 + i] >> 4) << 2 | (c[8 + i] >> 4) << 4 | (c[12 + i] >> 4) << 6);
            memcpy(dst + Q6_HIB(j) + rr * 4, hv, 4);
            for (int h = 0; h < 2; h++) {
                for (int i = 0; i < 4; i++) w[i] = (uint8_t)((c[8 * h + i] & 15) | (c[8 * h + 4 + i] & 15) << 4);
                memcpy(dst + Q6_NIB(j, h) + rr * 4, w, 4);
            }
        }
    }
}

typedef struct pack_job {
    const el_gguf_tensor *W;
    el_packed *p;
    bool release;
} pack_job;

/* Give back the whole pages of [a, e) of a read-only file mapping. */
static void release_pages(const void *a, const void *e)
{
    uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t b = ((uintptr_t)a + pg - 1) & ~(pg - 1), f = (uintptr_t)e & ~(pg - 1);
    if (f > b) madvise((void *)b, f - b, MADV_DONTNEED);
}

static void pack_groups(void *arg, int64_t g0, int64_t g1, int ith)
{
    (void)ith;
    pack_job *j = arg;
    el_packed *p = j->p;
    int64_t nb = p->in / blk_len(p->type);
    size_t bb = blk_bytes(p->type), row = el_row_size(p->type, p->in), sblk = row / (size_t)nb;
    for (int64_t g = g0; g < g1; g++) {
        uint8_t *gd = p->data + (size_t)g * p->group_bytes;
        if (is_float(p->type)) {
            for (int rr = 0; rr < G; rr++) {
                int64_t r = g * G + rr;
                if (r < p->out) memcpy(gd + (size_t)rr * row, (const uint8_t *)j->W->data + (size_t)r * row, row);
                else memset(gd + (size_t)rr * row, 0, row);
            }
            continue;
        }
        for (int rr = 0; rr < G; rr++) {
            int64_t r = g * G + rr;
            const uint8_t *src = r < p->out ? (const uint8_t *)j->W->data + (size_t)r * row : NULL;
            for (int64_t b = 0; b < nb; b++) {
                const uint8_t *sb = src ? src + (size_t)b * sblk : NULL;
                if (is_small(p->type)) {
                    uint16_t d = 0;
                    if (sb) memcpy(&d, sb, 2);   /* every block of 32 starts with its f16 scale */
                    memcpy(gd + sb_scale_off(p->type, b) + 2 * rr, &d, 2);
                    pack_block(p->type, sb, rr, gd + sb_code_off(p->type, b));
                } else {
                    pack_block(p->type, sb, rr, gd + (size_t)b * bb);
                }
            }
        }
    }
    if (j->release) {
        int64_t r0 = g0 * G, r1 = g1 * G < p->out ? g1 * G : p->out;
        const uint8_t *base = j->W->data;
        release_pages(base + (size_t)r0 * row, base + (size_t)r1 * row);
    }
}

el_packed *el_repack(const el_gguf_tensor *W, el_threads *tp, bool release, uint8_t *dst, el_err *err)
{
    return el_repack_as(W, el_repack_isa(), tp, release, dst, err);
}

size_t el_repack_size(const el_gguf_tensor *W)
{
    int64_t groups = (W->ne[1] + G - 1) / G;
    return (size_t)groups * group_bytes(W->type, W->ne[0] / blk_len(W->type));
}

el_packed *el_repack_as(const el_gguf_tensor *W, el_pk_isa isa, el_threads *tp, bool release, uint8_t *dst,
                        el_err *err)
{
    el_packed *p = el_calloc(1, sizeof *p, err);
    if (!p) return NULL;
    p->isa = isa;
    p->type = W->type;
    p->in = W->ne[0];
    p->out = W->ne[1];
    p->groups = (p->out + G - 1) / G;
    int64_t nb = p->in / blk_len(p->type);
    p->group_bytes = group_bytes(p->type, nb);
    size_t total = (size_t)p->groups * p->group_bytes;
    if (dst) {
        p->data = dst;
    } else {
        /* big tensors on 2 MiB boundaries, in transparent huge pages where
         * the kernel allows them (see el_huge_alloc) */
        size_t align = total >= HUGE_BYTES ? HUGE_BYTES : 64;
        if (posix_memalign((void **)&p->data, align, total ? total : 64)) {
            p->data = NULL;
            free(p);
            el_errf(err, "out of memory packing tensor '%s' (%zu bytes)", W->name, total);
            return NULL;
        }
        p->owns_data = true;
#ifdef MADV_HUGEPAGE
        if (align == HUGE_BYTES) madvise(p->data, (total + HUGE_BYTES - 1) & ~(HUGE_BYTES - 1), MADV_HUGEPAGE);
#endif
    }
    /* chunks of about 1 MiB of packed data, so that a big tensor's original
     * pages are given back while it is packed (peak memory: the model plus a
     * few chunks, not plus the biggest tensor) */
    pack_job j = {W, p, release};
    int64_t chunk = (int64_t)((1u << 20) / p->group_bytes);
    el_parallel_for(tp, p->groups, chunk < 1 ? 1 : chunk, pack_groups, &j);
    if (release) release_pages(W->data, (const uint8_t *)W->data + W->n_bytes);
    return p;
}

void el_packed_get_row(const el_packed *p, int64_t r, float *dst)
{
    int64_t g = r / G;
    int rr = (int)(r % G);
    if (is_float(p->type)) {
        size_t row = el_row_size(p->type, p->in);
        el_dequantize_row(p->type, p->data + (size_t)g * p->group_bytes + (size_t)rr * row, dst, p->in);
        return;
    }
    size_t bb = blk_bytes(p->type);
    int64_t nb = p->in / blk_len(p->type);
    const uint8_t *gd = p->data + (size_t)g * p->group_bytes;
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = is_small(p->type) ? gd + sb_code_off(p->type, b) : gd + (size_t)b * bb;
        uint16_t h;
        if (p->type == EL_TYPE_Q8_0) {
            memcpy(&h, gd + q8_scale_off(b) + 2 * rr, 2);
            float d = h2f(h);
            for (int k = 0; k < 32; k++) dst[32 * b + k] = d * (float)(int8_t)(blk[(k / 4) * 64 + rr * 4 + k % 4] ^ 0x80);
        } else if (is_small(p->type)) {   /* q4_0, q5_0 */
            bool q5 = p->type == EL_TYPE_Q5_0;
            memcpy(&h, gd + sb_scale_off(p->type, b) + 2 * rr, 2);
            float d = h2f(h);
            const uint8_t *nib = blk + (q5 ? 64 : 0);
            for (int k = 0; k < 32; k++) {
                int step = k / 8, upper = (k % 8) >= 4, i = k % 4;
                uint8_t v = nib[step * 64 + rr * 4 + i];
                int q = upper ? v >> 4 : v & 15;
                if (q5) q |= ((blk[rr * 4 + i] >> (2 * step + upper)) & 1) << 4;
                dst[32 * b + k] = d * (float)(q - (q5 ? 16 : 8));
            }
        } else if (p->type == EL_TYPE_Q4_K || p->type == EL_TYPE_Q5_K) {
            bool q5 = p->type == EL_TYPE_Q5_K;
            uint16_t hm;
            memcpy(&h, blk + 2 * rr, 2);
            memcpy(&hm, blk + 32 + 2 * rr, 2);
            float d = h2f(h), dmin = h2f(hm);
            const uint8_t *sc = blk + 64, *mn = sc + 8 * G;
            for (int j = 0; j < 8; j++) {
                float ds = d * sc[j * G + rr], dm = dmin * mn[(j / 2) * 2 * G + rr * 2 + (j & 1)];
                const uint8_t *nib = q5 ? blk + Q5K_NIB(j, 0) : mn + 8 * G + j * 4 * 64;
                for (int l = 0; l < 32; l++) {
                    int step = l / 8, upper = (l % 8) >= 4, i = l % 4;
                    uint8_t v = nib[step * 64 + rr * 4 + i];
                    int q = upper ? v >> 4 : v & 15;
                    if (q5) q |= ((blk[Q5K_HB(j) + rr * 4 + i] >> (2 * step + upper)) & 1) << 4;
                    dst[256 * b + 32 * j + l] = ds * (float)q - dm;
                }
            }
        } else {
            memcpy(&h, blk + 2 * rr, 2);
            float d = h2f(h);
            const uint8_t *sc = blk + 64;
            for (int j = 0; j < 16; j++) {
                float ds = d * (float)(int8_t)sc[j * G + rr];
                for (int l = 0; l < 16; l++) {
                    int h8 = l / 8, i = l % 4, upper = (l % 8) >= 4;
                    uint8_t v = blk[Q6_NIB(j, h8) + rr * 4 + i];
                    int lo = upper ? v >> 4 : v & 15;
                    int hi = (blk[Q6_HIB(j) + rr * 4 + i] >> (4 * h8 + 2 * upper)) & 3;
                    dst[256 * b + 16 * j + l] = ds * (float)((lo | hi << 4) - 32);
                }
            }
        }
    }
}

size_t el_packed_act_row_bytes(const el_packed *p)
{
    if (is_float(p->type)) return (size_t)p->in * sizeof(float);
    if (is_small(p->type)) return (size_t)(p->in / 32) * sizeof(el_act_q8);
    return (size_t)(p->in / 256) * sizeof(act_x16k);
}

void el_packed_quantize_act(const el_packed *p, const float *x, void *dst)
{
    if (is_float(p->type)) {   /* the float kernels take F32 activations as they are */
        memcpy(dst, x, (size_t)p->in * sizeof(float));
        return;
    }
    if (is_small(p->type)) {
        el_qdot_quantize_act(EL_TYPE_Q8_0, x, dst, p->in);
        return;
    }
    act_x16k *a = dst;
    for (int64_t b = 0; b < p->in / 256; b++) {
        el_act_q8k k;
        el_qdot_quantize_act(EL_TYPE_Q4_K, x + 256 * b, &k, 256);
        a[b].d = k.d;
        memcpy(a[b].qs, k.qs, 256);
        for (int j = 0; j < 16; j++) a[b].bias6[j] = -32 * k.bsums[j];
        for (int j = 0; j < 8; j++) a[b].bsum32[j] = (int16_t)(k.bsums[2 * j] + k.bsums[2 * j + 1]);
    }
}

#ifdef HAVE_X16
#include <immintrin.h>

#define T_X16 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))
#define ALWAYS static inline __attribute__((always_inline))
#define UNROLL8 _Pragma("GCC unroll 8")

ALWAYS T_X16 __m512i bcast4(const void *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

ALWAYS T_X16 void store_rows(float *y, __m512 v, int nrows)
{
    if (nrows >= G)
        _mm512_storeu_ps(y, v);
    else
        _mm512_mask_storeu_ps(y, (__mmask16)((1u << nrows) - 1), v);
}

/* q8_0: y[c] (16 rows) for NC activation rows. P partial sums per column keep
 * the dependency chains short when NC is small. */
ALWAYS T_X16 void q8_body(const uint8_t *g, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy,
                          int nrows, const int NC)
{
    const int P = NC == 1 ? 4 : NC == 2 ? 2 : 1;
    __m512 facc[8];
    UNROLL8 for (int c = 0; c < NC; c++) facc[c] = _mm512_setzero_ps();
    const uint8_t *g0 = g;
    for (int64_t b = 0; b < nb; b++) {
        __m512 dw = _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)(g0 + q8_scale_off(b))));
        g = g0 + q8_code_off(b);
        const el_act_q8 *a[8];
        UNROLL8 for (int c = 0; c < NC; c++) a[c] = (const el_act_q8 *)(act + c * ast) + b;
        __m512i acc[8][4];
        UNROLL8 for (int c = 0; c < NC; c++)
        {
            acc[c][0] = _mm512_set1_epi32(-128 * a[c]->sum);
            for (int q = 1; q < P; q++) acc[c][q] = _mm512_setzero_si512();
        }
        UNROLL8 for (int k = 0; k < 8; k++)
        {
            __m512i w = _mm512_load_si512((const void *)(g + 64 * k));
            UNROLL8 for (int c = 0; c < NC; c++) acc[c][k % P] = _mm512_dpbusd_epi32(acc[c][k % P], w, bcast4(a[c]->qs + 4 * k));
        }
        UNROLL8 for (int c = 0; c < NC; c++)
        {
            __m512i s = acc[c][0];
            for (int q = 1; q < P; q++) s = _mm512_add_epi32(s, acc[c][q]);
            facc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dw, _mm512_set1_ps(a[c]->d)), facc[c]);
        }
    }
    UNROLL8 for (int c = 0; c < NC; c++) store_rows(y + c * ldy, facc[c], nrows);
}

/* Step k's fifth bits (pack_run32: bits 2k and 2k + 1 of each byte of hb) to
 * bit 4 of the low and high nibbles' codes: A | (B & C) in one op each. */
ALWAYS T_X16 void add_fifth_bits(__m512i hb, const int k, __m512i *lo, __m512i *hi)
{
    const __m512i m10 = _mm512_set1_epi8(0x10);
    __m512i hl = k < 3 ? _mm512_slli_epi16(hb, 4 - 2 * k) : _mm512_srli_epi16(hb, 2);
    __m512i hh = k < 2 ? _mm512_slli_epi16(hb, 3 - 2 * k) : _mm512_srli_epi16(hb, 2 * k - 3);
    *lo = _mm512_ternarylogic_epi32(*lo, hl, m10, 0xF8);
    *hi = _mm512_ternarylogic_epi32(*hi, hh, m10, 0xF8);
}

/* q4_0 and q5_0 (Q5 = 1): per block, the int32 dot starts at -(zero point) x
 * (sum of the activation codes); a 64-byte step of nibbles gives two steps
 * of codes, q5_0's fifth bits put in at bit 4 by one ternary-logic op. P
 * partial sums per column as in q8_body. */
ALWAYS T_X16 void q450_body(const uint8_t *g0, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy,
                            int nrows, const int NC, const int Q5)
{
    const el_type t = Q5 ? EL_TYPE_Q5_0 : EL_TYPE_Q4_0;
    const int P = NC == 1 ? 4 : NC == 2 ? 2 : 1;
    const __m512i m4 = _mm512_set1_epi8(15);
    __m512 facc[8];
    UNROLL8 for (int c = 0; c < NC; c++) facc[c] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        __m512 dw = _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)(g0 + sb_scale_off(t, b))));
        const uint8_t *g = g0 + sb_code_off(t, b), *nib = g + (Q5 ? 64 : 0);
        const el_act_q8 *a[8];
        UNROLL8 for (int c = 0; c < NC; c++) a[c] = (const el_act_q8 *)(act + c * ast) + b;
        __m512i acc[8][4];
        UNROLL8 for (int c = 0; c < NC; c++)
        {
            acc[c][0] = _mm512_set1_epi32((Q5 ? -16 : -8) * a[c]->sum);
            for (int q = 1; q < P; q++) acc[c][q] = _mm512_setzero_si512();
        }
        __m512i hb = Q5 ? _mm512_load_si512((const void *)g) : _mm512_setzero_si512();
        UNROLL8 for (int k = 0; k < 4; k++)
        {
            __m512i v = _mm512_load_si512((const void *)(nib + 64 * k));
            __m512i lo = _mm512_and_si512(v, m4), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
            if (Q5) add_fifth_bits(hb, k, &lo, &hi);
            UNROLL8 for (int c = 0; c < NC; c++)
            {
                acc[c][(2 * k) % P] = _mm512_dpbusd_epi32(acc[c][(2 * k) % P], lo, bcast4(a[c]->qs + 8 * k));
                acc[c][(2 * k + 1) % P] = _mm512_dpbusd_epi32(acc[c][(2 * k + 1) % P], hi, bcast4(a[c]->qs + 8 * k + 4));
            }
        }
        UNROLL8 for (int c = 0; c < NC; c++)
        {
            __m512i s = acc[c][0];
            for (int q = 1; q < P; q++) s = _mm512_add_epi32(s, acc[c][q]);
            facc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dw, _mm512_set1_ps(a[c]->d)), facc[c]);
        }
    }
    UNROLL8 for (int c = 0; c < NC; c++) store_rows(y + c * ldy, facc[c], nrows);
}

/* q4_K (Q5 = 0) and q5_K (Q5 = 1): per sub-block j of 32, an int32 dot per
 * row, times the row's scale in float (tmp); the mins against the
 * activation's sums of 32 (macc). q5_K's fifth bits as in q450_body. */
ALWAYS T_X16 void q45k_body(const uint8_t *g, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy,
                            int nrows, const int NC, const int Q5)
{
    const int P = NC <= 2 ? 2 : 1;
    const __m512i m4 = _mm512_set1_epi8(15);
    __m512 facc[8];
    UNROLL8 for (int c = 0; c < NC; c++) facc[c] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++, g += Q5 ? 2880 : 2368) {
        const act_x16k *a[8];
        UNROLL8 for (int c = 0; c < NC; c++) a[c] = (const act_x16k *)(act + c * ast) + b;
        __m512 tmp[8];
        UNROLL8 for (int c = 0; c < NC; c++) tmp[c] = _mm512_setzero_ps();
        const uint8_t *scb = g + 64, *mnb = scb + 8 * G, *nib = mnb + 8 * G;
        for (int j = 0; j < 8; j++) {
            __m512 sc = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_load_si128((const __m128i *)(scb + j * G))));
            __m512i lo[4], hi[4];
            __m512i hb = Q5 ? _mm512_load_si512((const void *)(g + Q5K_HB(j))) : m4;
            UNROLL8 for (int h = 0; h < 4; h++)
            {
                __m512i v = _mm512_load_si512((const void *)(Q5 ? g + Q5K_NIB(j, h) : nib + (j * 4 + h) * 64));
                lo[h] = _mm512_and_si512(v, m4);
                /* P == 2: the high nibbles stay in place (16 x code), their
                 * sum is shifted back once (exact: every product is a multiple of 16) */
                hi[h] = P == 2 && !Q5 ? _mm512_andnot_si512(m4, v) : _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
                if (Q5) add_fifth_bits(hb, h, &lo[h], &hi[h]);
            }
            UNROLL8 for (int c = 0; c < NC; c++)
            {
                const int8_t *q = a[c]->qs + 32 * j;
                __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
                UNROLL8 for (int h = 0; h < 4; h++)
                {
                    s0 = _mm512_dpbusd_epi32(s0, lo[h], bcast4(q + 8 * h));
                    if (P == 2)
                        s1 = _mm512_dpbusd_epi32(s1, hi[h], bcast4(q + 8 * h + 4));
                    else
                        s0 = _mm512_dpbusd_epi32(s0, hi[h], bcast4(q + 8 * h + 4));
                }
                if (P == 2) s0 = _mm512_add_epi32(s0, Q5 ? s1 : _mm512_srai_epi32(s1, 4));
                tmp[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s0), sc, tmp[c]);
            }
        }
        __m512 d = _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)g));
        __m512 dmin = _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)(g + 32)));
        __m512i mn[4];
        UNROLL8 for (int p = 0; p < 4; p++) mn[p] = _mm512_cvtepu8_epi16(_mm256_load_si256((const __m256i *)(mnb + p * 32)));
        UNROLL8 for (int c = 0; c < NC; c++)
        {
            __m512i m = _mm512_setzero_si512();
            UNROLL8 for (int p = 0; p < 4; p++) m = _mm512_dpwssd_epi32(m, mn[p], bcast4(a[c]->bsum32 + 2 * p));
            __m512 da = _mm512_set1_ps(a[c]->d);
            facc[c] = _mm512_fmadd_ps(tmp[c], _mm512_mul_ps(d, da), facc[c]);
            facc[c] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(m), _mm512_mul_ps(dmin, da), facc[c]);
        }
    }
    UNROLL8 for (int c = 0; c < NC; c++) store_rows(y + c * ldy, facc[c], nrows);
}


/* q6_K: codes rebuilt from the low nibbles and the high two bits; per
 * sub-block of 16 the dot starts at -32 * (sum of the 16 activation codes). */
ALWAYS T_X16 void q6k_body(const uint8_t *g, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy,
                           int nrows, const int NC)
{
    const __m512i m4 = _mm512_set1_epi8(15), m30 = _mm512_set1_epi8(0x30);
    __m512 facc[8];
    UNROLL8 for (int c = 0; c < NC; c++) facc[c] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++, g += 3392) {
        const act_x16k *a[8];
        UNROLL8 for (int c = 0; c < NC; c++) a[c] = (const act_x16k *)(act + c * ast) + b;
        __m512 tmp[8];
        UNROLL8 for (int c = 0; c < NC; c++) tmp[c] = _mm512_setzero_ps();
        const uint8_t *scb = g + 64;
        for (int j = 0; j < 16; j++) {
            __m512 sc = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_load_si128((const __m128i *)(scb + j * G))));
            __m512i hv = _mm512_load_si512((const void *)(g + Q6_HIB(j)));
            __m512i q[4];
            UNROLL8 for (int h = 0; h < 2; h++)
            {
                __m512i v = _mm512_load_si512((const void *)(g + Q6_NIB(j, h)));
                __m512i hl = h == 0 ? _mm512_slli_epi16(hv, 4) : hv;
                __m512i hh = h == 0 ? _mm512_slli_epi16(hv, 2) : _mm512_srli_epi16(hv, 2);
                /* (low nibble) | (high bits & 0x30) in one ternary-logic op: A | (B & C) */
                q[2 * h] = _mm512_ternarylogic_epi32(_mm512_and_si512(v, m4), hl, m30, 0xF8);
                q[2 * h + 1] = _mm512_ternarylogic_epi32(_mm512_and_si512(_mm512_srli_epi16(v, 4), m4), hh, m30, 0xF8);
            }
            UNROLL8 for (int c = 0; c < NC; c++)
            {
                const int8_t *qa = a[c]->qs + 16 * j;
                __m512i s = _mm512_set1_epi32(a[c]->bias6[j]);
                s = _mm512_dpbusd_epi32(s, q[0], bcast4(qa));
                s = _mm512_dpbusd_epi32(s, q[1], bcast4(qa + 4));
                s = _mm512_dpbusd_epi32(s, q[2], bcast4(qa + 8));
                s = _mm512_dpbusd_epi32(s, q[3], bcast4(qa + 12));
                tmp[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), sc, tmp[c]);
            }
        }
        __m512 d = _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)g));
        UNROLL8 for (int c = 0; c < NC; c++) facc[c] = _mm512_fmadd_ps(tmp[c], _mm512_mul_ps(d, _mm512_set1_ps(a[c]->d)), facc[c]);
    }
    UNROLL8 for (int c = 0; c < NC; c++) store_rows(y + c * ldy, facc[c], nrows);
}

#define DISPATCH(BODY, ...)                                                                             \
    switch (nc) {                                                                                       \
    case 1: BODY(g, nb, act, ast, y, ldy, nrows, 1, ##__VA_ARGS__); break;                              \
    case 2: BODY(g, nb, act, ast, y, ldy, nrows, 2, ##__VA_ARGS__); break;                              \
    case 3: BODY(g, nb, act, ast, y, ldy, nrows, 3, ##__VA_ARGS__); break;                              \
    case 4: BODY(g, nb, act, ast, y, ldy, nrows, 4, ##__VA_ARGS__); break;                              \
    case 5: BODY(g, nb, act, ast, y, ldy, nrows, 5, ##__VA_ARGS__); break;                              \
    case 6: BODY(g, nb, act, ast, y, ldy, nrows, 6, ##__VA_ARGS__); break;                              \
    case 7: BODY(g, nb, act, ast, y, ldy, nrows, 7, ##__VA_ARGS__); break;                              \
    default: BODY(g, nb, act, ast, y, ldy, nrows, 8, ##__VA_ARGS__); break;                             \
    }

static T_X16 void q8_x16(const uint8_t *g, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy, int nrows, int nc)
{
    DISPATCH(q8_body)
}
static T_X16 void q4k_x16(const uint8_t *g, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy, int nrows, int nc)
{
    DISPATCH(q45k_body, 0)
}
static T_X16 void q6k_x16(const uint8_t *g, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy, int nrows, int nc)
{
    DISPATCH(q6k_body)
}
static T_X16 void q5k_x16(const uint8_t *g, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy, int nrows, int nc)
{
    DISPATCH(q45k_body, 1)
}
static T_X16 void q40_x16(const uint8_t *g, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy, int nrows, int nc)
{
    DISPATCH(q450_body, 0)
}
static T_X16 void q50_x16(const uint8_t *g, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy, int nrows, int nc)
{
    DISPATCH(q450_body, 1)
}

/* 256-bit kernels: AVX2, AVX-512 VL VNNI on ymm (EVEX), AVX-VNNI (VEX) */
#define YT __attribute__((target("avx2,fma,f16c")))
#define YSUF avx2
#define YVNNI 0
#include "repack_ymm.h"
#undef YT
#undef YSUF
#undef YVNNI
#define YT __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512vnni")))
#define YSUF vnni256
#define YVNNI 1
#define YDPBUSD(acc, u, s) _mm256_dpbusd_epi32(acc, u, s)
#include "repack_ymm.h"
#undef YT
#undef YSUF
#undef YDPBUSD
#define YT __attribute__((target("avx2,fma,f16c,avxvnni")))
#define YSUF avxvnni
#define YDPBUSD(acc, u, s) _mm256_dpbusd_avx_epi32(acc, u, s)
#include "repack_ymm.h"
#undef YT
#undef YSUF
#undef YDPBUSD
#undef YVNNI

static pk_fn kernel_for_isa(el_type t, el_pk_isa isa)
{
    int k = t == EL_TYPE_Q8_0 ? 0 : t == EL_TYPE_Q4_K ? 1 : t == EL_TYPE_Q6_K ? 2 : t == EL_TYPE_Q4_0 ? 3 : t == EL_TYPE_Q5_0 ? 4
          : t == EL_TYPE_Q5_K ? 5 : -1;
    /* AVX2 has no q8_0: its codes + 128 overflow the int16 pairs of vpmaddubsw */
    static const pk_fn fns[5][6] = {
        [EL_PK_AVX2] = {NULL, q4k_avx2, q6k_avx2, q40_avx2, q50_avx2, q5k_avx2},
        [EL_PK_VNNI256] = {q8_vnni256, q4k_vnni256, q6k_vnni256, q40_vnni256, q50_vnni256, q5k_vnni256},
        [EL_PK_AVX512] = {q8_x16, q4k_x16, q6k_x16, q40_x16, q50_x16, q5k_x16},
        [EL_PK_AVXVNNI] = {q8_avxvnni, q4k_avxvnni, q6k_avxvnni, q40_avxvnni, q50_avxvnni, q5k_avxvnni},
    };
    return (unsigned)isa < 5 && k >= 0 ? fns[isa][k] : NULL;
}

#elif defined(HAVE_NEON16)
#include <arm_neon.h>

/* NEON with the dot-product extension: a 64-byte step of the layout is four
 * 16-byte vectors of 4 rows x 4 codes, and one sdot by lane (a group of four
 * activation codes) gives 4 rows' partial sums. sdot multiplies signed bytes:
 * q8_0's stored codes are flipped back (xor 0x80), the k-quant codes are
 * small enough to be signed as they are. Up to 2 activation rows per call. */
#define T_NP __attribute__((target("arch=armv8.2-a+dotprod")))
#define ALWAYS static inline __attribute__((always_inline))
#define UNROLL8 _Pragma("GCC unroll 8")

ALWAYS T_NP int32x4_t dot_lane(int32x4_t acc, int8x16_t w, int8x16_t a, const int lane)
{
    switch (lane) {
    case 0: return vdotq_laneq_s32(acc, w, a, 0);
    case 1: return vdotq_laneq_s32(acc, w, a, 1);
    case 2: return vdotq_laneq_s32(acc, w, a, 2);
    default: return vdotq_laneq_s32(acc, w, a, 3);
    }
}

/* 16 f16 at p -> 4 x 4 floats */
ALWAYS T_NP void f16x16(const uint8_t *p, float32x4_t *o)
{
    UNROLL8 for (int r = 0; r < 4; r++) o[r] = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16((const uint16_t *)p + 4 * r)));
}

ALWAYS T_NP void u8x16_f32(uint8x16_t v, float32x4_t *o)
{
    uint16x8_t lo = vmovl_u8(vget_low_u8(v)), hi = vmovl_u8(vget_high_u8(v));
    o[0] = vcvtq_f32_u32(vmovl_u16(vget_low_u16(lo)));
    o[1] = vcvtq_f32_u32(vmovl_u16(vget_high_u16(lo)));
    o[2] = vcvtq_f32_u32(vmovl_u16(vget_low_u16(hi)));
    o[3] = vcvtq_f32_u32(vmovl_u16(vget_high_u16(hi)));
}

ALWAYS T_NP void s8x16_f32(int8x16_t v, float32x4_t *o)
{
    int16x8_t lo = vmovl_s8(vget_low_s8(v)), hi = vmovl_s8(vget_high_s8(v));
    o[0] = vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo)));
    o[1] = vcvtq_f32_s32(vmovl_s16(vget_high_s16(lo)));
    o[2] = vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi)));
    o[3] = vcvtq_f32_s32(vmovl_s16(vget_high_s16(hi)));
}

ALWAYS T_NP void store_quads(float *y, const float32x4_t *v, int nrows)
{
    if (nrows >= 16) {
        UNROLL8 for (int r = 0; r < 4; r++) vst1q_f32(y + 4 * r, v[r]);
        return;
    }
    float t[16];
    for (int r = 0; r < 4; r++) vst1q_f32(t + 4 * r, v[r]);
    memcpy(y, t, (size_t)nrows * sizeof(float));
}

ALWAYS T_NP void q8n_body(const uint8_t *g0, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy, int nrows,
                          const int NC)
{
    const uint8x16_t x80 = vdupq_n_u8(0x80);
    float32x4_t facc[2][4];
    UNROLL8 for (int c = 0; c < NC; c++) for (int r = 0; r < 4; r++) facc[c][r] = vdupq_n_f32(0);
    for (int64_t b = 0; b < nb; b++) {
        float32x4_t dw[4];
        f16x16(g0 + q8_scale_off(b), dw);
        const uint8_t *g = g0 + q8_code_off(b);
        const el_act_q8 *a[2];
        int8x16_t a0[2], a1[2];
        UNROLL8 for (int c = 0; c < NC; c++)
        {
            a[c] = (const el_act_q8 *)(act + c * ast) + b;
            a0[c] = vld1q_s8(a[c]->qs), a1[c] = vld1q_s8(a[c]->qs + 16);
        }
        UNROLL8 for (int r = 0; r < 4; r++)
        {
            int32x4_t acc[2];
            UNROLL8 for (int c = 0; c < NC; c++) acc[c] = vdupq_n_s32(0);
            UNROLL8 for (int k = 0; k < 8; k++)
            {
                int8x16_t w = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(g + 64 * k + 16 * r), x80));
                UNROLL8 for (int c = 0; c < NC; c++) acc[c] = dot_lane(acc[c], w, k < 4 ? a0[c] : a1[c], k % 4);
            }
            UNROLL8 for (int c = 0; c < NC; c++)
                facc[c][r] = vfmaq_f32(facc[c][r], vcvtq_f32_s32(acc[c]), vmulq_n_f32(dw[r], a[c]->d));
        }
    }
    UNROLL8 for (int c = 0; c < NC; c++) store_quads(y + c * ldy, facc[c], nrows);
}

/* as add_fifth_bits on x86: step k's fifth bits to bit 4 (byte shifts) */
ALWAYS T_NP void add_fifth_bits_n(uint8x16_t hb, const int k, uint8x16_t *lo, uint8x16_t *hi)
{
    const uint8x16_t m10 = vdupq_n_u8(0x10);
    uint8x16_t hl = k == 0 ? vshlq_n_u8(hb, 4) : k == 1 ? vshlq_n_u8(hb, 2) : k == 2 ? hb : vshrq_n_u8(hb, 2);
    uint8x16_t hh = k == 0 ? vshlq_n_u8(hb, 3) : k == 1 ? vshlq_n_u8(hb, 1) : k == 2 ? vshrq_n_u8(hb, 1) : vshrq_n_u8(hb, 3);
    *lo = vorrq_u8(*lo, vandq_u8(hl, m10));
    *hi = vorrq_u8(*hi, vandq_u8(hh, m10));
}

/* q4_0 (Q5 = 0) and q5_0 (Q5 = 1): the nibbles' step k holds codes 8k..8k+3
 * (low) and 8k+4..8k+7 (high) of 4 rows per vector; q5_0's fifth bits come
 * to bit 4 by a byte shift. The dot starts at -(zero point) x (code sum). */
ALWAYS T_NP void q450n_body(const uint8_t *g0, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy, int nrows,
                            const int NC, const int Q5)
{
    const el_type t = Q5 ? EL_TYPE_Q5_0 : EL_TYPE_Q4_0;
    const uint8x16_t m4 = vdupq_n_u8(15);
    float32x4_t facc[2][4];
    UNROLL8 for (int c = 0; c < NC; c++) for (int r = 0; r < 4; r++) facc[c][r] = vdupq_n_f32(0);
    for (int64_t b = 0; b < nb; b++) {
        float32x4_t dw[4];
        f16x16(g0 + sb_scale_off(t, b), dw);
        const uint8_t *g = g0 + sb_code_off(t, b), *nib = g + (Q5 ? 64 : 0);
        const el_act_q8 *a[2];
        int8x16_t a0[2], a1[2];
        UNROLL8 for (int c = 0; c < NC; c++)
        {
            a[c] = (const el_act_q8 *)(act + c * ast) + b;
            a0[c] = vld1q_s8(a[c]->qs), a1[c] = vld1q_s8(a[c]->qs + 16);
        }
        UNROLL8 for (int r = 0; r < 4; r++)
        {
            int32x4_t acc[2];
            UNROLL8 for (int c = 0; c < NC; c++) acc[c] = vdupq_n_s32((Q5 ? -16 : -8) * a[c]->sum);
            uint8x16_t hb = Q5 ? vld1q_u8(g + 16 * r) : vdupq_n_u8(0);
            UNROLL8 for (int k = 0; k < 4; k++)
            {
                uint8x16_t v = vld1q_u8(nib + 64 * k + 16 * r);
                uint8x16_t lo = vandq_u8(v, m4), hi = vshrq_n_u8(v, 4);
                if (Q5) add_fifth_bits_n(hb, k, &lo, &hi);
                UNROLL8 for (int c = 0; c < NC; c++)
                {
                    int8x16_t A = k < 2 ? a0[c] : a1[c];
                    acc[c] = dot_lane(acc[c], vreinterpretq_s8_u8(lo), A, (2 * k) % 4);
                    acc[c] = dot_lane(acc[c], vreinterpretq_s8_u8(hi), A, (2 * k + 1) % 4);
                }
            }
            UNROLL8 for (int c = 0; c < NC; c++)
                facc[c][r] = vfmaq_f32(facc[c][r], vcvtq_f32_s32(acc[c]), vmulq_n_f32(dw[r], a[c]->d));
        }
    }
    UNROLL8 for (int c = 0; c < NC; c++) store_quads(y + c * ldy, facc[c], nrows);
}

/* q4_K (Q5 = 0) and q5_K (Q5 = 1) */
ALWAYS T_NP void q45kn_body(const uint8_t *g, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy, int nrows,
                            const int NC, const int Q5)
{
    const uint8x16_t m4 = vdupq_n_u8(15);
    float32x4_t facc[2][4];
    UNROLL8 for (int c = 0; c < NC; c++) for (int r = 0; r < 4; r++) facc[c][r] = vdupq_n_f32(0);
    for (int64_t b = 0; b < nb; b++, g += Q5 ? 2880 : 2368) {
        const act_x16k *a[2];
        float32x4_t tmp[2][4];
        UNROLL8 for (int c = 0; c < NC; c++)
        {
            a[c] = (const act_x16k *)(act + c * ast) + b;
            for (int r = 0; r < 4; r++) tmp[c][r] = vdupq_n_f32(0);
        }
        const uint8_t *scb = g + 64, *mnb = scb + 8 * G, *nib = mnb + 8 * G;
        for (int j = 0; j < 8; j++) {
            float32x4_t sc[4];
            u8x16_f32(vld1q_u8(scb + j * G), sc);
            int8x16_t A0[2], A1[2];
            UNROLL8 for (int c = 0; c < NC; c++) A0[c] = vld1q_s8(a[c]->qs + 32 * j), A1[c] = vld1q_s8(a[c]->qs + 32 * j + 16);
            UNROLL8 for (int r = 0; r < 4; r++)
            {
                int32x4_t acc[2];
                UNROLL8 for (int c = 0; c < NC; c++) acc[c] = vdupq_n_s32(0);
                uint8x16_t hb = Q5 ? vld1q_u8(g + Q5K_HB(j) + 16 * r) : m4;
                UNROLL8 for (int h = 0; h < 4; h++)
                {
                    uint8x16_t v = vld1q_u8((Q5 ? g + Q5K_NIB(j, h) : nib + (j * 4 + h) * 64) + 16 * r);
                    uint8x16_t lo8 = vandq_u8(v, m4), hi8 = vshrq_n_u8(v, 4);
                    if (Q5) add_fifth_bits_n(hb, h, &lo8, &hi8);
                    int8x16_t lo = vreinterpretq_s8_u8(lo8), hi = vreinterpretq_s8_u8(hi8);
                    UNROLL8 for (int c = 0; c < NC; c++)
                    {
                        int8x16_t A = h < 2 ? A0[c] : A1[c];
                        acc[c] = dot_lane(acc[c], lo, A, 2 * (h % 2));
                        acc[c] = dot_lane(acc[c], hi, A, 2 * (h % 2) + 1);
                    }
                }
                UNROLL8 for (int c = 0; c < NC; c++) tmp[c][r] = vfmaq_f32(tmp[c][r], vcvtq_f32_s32(acc[c]), sc[r]);
            }
        }
        float32x4_t d[4], dmin[4];
        f16x16(g, d);
        f16x16(g + 32, dmin);
        int32x4_t macc[2][4];
        UNROLL8 for (int c = 0; c < NC; c++) for (int r = 0; r < 4; r++) macc[c][r] = vdupq_n_s32(0);
        UNROLL8 for (int p = 0; p < 4; p++)
        {
            uint8x16x2_t mm = vld2q_u8(mnb + 32 * p);   /* the mins of sub-blocks 2p and 2p+1, 16 rows each */
            UNROLL8 for (int e = 0; e < 2; e++)
            {
                int16x8_t lo = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(mm.val[e])));
                int16x8_t hi = vreinterpretq_s16_u16(vmovl_u8(vget_high_u8(mm.val[e])));
                UNROLL8 for (int c = 0; c < NC; c++)
                {
                    int16_t bs = a[c]->bsum32[2 * p + e];
                    macc[c][0] = vmlal_n_s16(macc[c][0], vget_low_s16(lo), bs);
                    macc[c][1] = vmlal_n_s16(macc[c][1], vget_high_s16(lo), bs);
                    macc[c][2] = vmlal_n_s16(macc[c][2], vget_low_s16(hi), bs);
                    macc[c][3] = vmlal_n_s16(macc[c][3], vget_high_s16(hi), bs);
                }
            }
        }
        UNROLL8 for (int c = 0; c < NC; c++) for (int r = 0; r < 4; r++)
        {
            facc[c][r] = vfmaq_f32(facc[c][r], tmp[c][r], vmulq_n_f32(d[r], a[c]->d));
            facc[c][r] = vfmsq_f32(facc[c][r], vcvtq_f32_s32(macc[c][r]), vmulq_n_f32(dmin[r], a[c]->d));
        }
    }
    UNROLL8 for (int c = 0; c < NC; c++) store_quads(y + c * ldy, facc[c], nrows);
}


ALWAYS T_NP void q6kn_body(const uint8_t *g, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy, int nrows,
                           const int NC)
{
    const uint8x16_t m4 = vdupq_n_u8(15), m30 = vdupq_n_u8(0x30);
    float32x4_t facc[2][4];
    UNROLL8 for (int c = 0; c < NC; c++) for (int r = 0; r < 4; r++) facc[c][r] = vdupq_n_f32(0);
    for (int64_t b = 0; b < nb; b++, g += 3392) {
        const act_x16k *a[2];
        float32x4_t tmp[2][4];
        UNROLL8 for (int c = 0; c < NC; c++)
        {
            a[c] = (const act_x16k *)(act + c * ast) + b;
            for (int r = 0; r < 4; r++) tmp[c][r] = vdupq_n_f32(0);
        }
        const uint8_t *scb = g + 64;
        for (int j = 0; j < 16; j++) {
            float32x4_t sc[4];
            s8x16_f32(vld1q_s8((const int8_t *)scb + j * G), sc);
            int8x16_t A[2];
            UNROLL8 for (int c = 0; c < NC; c++) A[c] = vld1q_s8(a[c]->qs + 16 * j);
            UNROLL8 for (int r = 0; r < 4; r++)
            {
                uint8x16_t hv = vld1q_u8(g + Q6_HIB(j) + 16 * r);
                uint8x16_t v0 = vld1q_u8(g + Q6_NIB(j, 0) + 16 * r), v1 = vld1q_u8(g + Q6_NIB(j, 1) + 16 * r);
                int8x16_t q[4];
                q[0] = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(v0, m4), vandq_u8(vshlq_n_u8(hv, 4), m30)));
                q[1] = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(v0, 4), vandq_u8(vshlq_n_u8(hv, 2), m30)));
                q[2] = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(v1, m4), vandq_u8(hv, m30)));
                q[3] = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(v1, 4), vandq_u8(vshrq_n_u8(hv, 2), m30)));
                UNROLL8 for (int c = 0; c < NC; c++)
                {
                    int32x4_t s = vdupq_n_s32(a[c]->bias6[j]);
                    s = dot_lane(s, q[0], A[c], 0);
                    s = dot_lane(s, q[1], A[c], 1);
                    s = dot_lane(s, q[2], A[c], 2);
                    s = dot_lane(s, q[3], A[c], 3);
                    tmp[c][r] = vfmaq_f32(tmp[c][r], vcvtq_f32_s32(s), sc[r]);
                }
            }
        }
        float32x4_t d[4];
        f16x16(g, d);
        UNROLL8 for (int c = 0; c < NC; c++) for (int r = 0; r < 4; r++)
            facc[c][r] = vfmaq_f32(facc[c][r], tmp[c][r], vmulq_n_f32(d[r], a[c]->d));
    }
    UNROLL8 for (int c = 0; c < NC; c++) store_quads(y + c * ldy, facc[c], nrows);
}

#define NDISPATCH(BODY, ...)                                                                            \
    if (nc == 1) BODY(g, nb, act, ast, y, ldy, nrows, 1, ##__VA_ARGS__);                                \
    else BODY(g, nb, act, ast, y, ldy, nrows, 2, ##__VA_ARGS__);

static T_NP void q8_neon(const uint8_t *g, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy, int nrows, int nc)
{
    NDISPATCH(q8n_body)
}
static T_NP void q4k_neon(const uint8_t *g, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy, int nrows, int nc)
{
    NDISPATCH(q45kn_body, 0)
}
static T_NP void q6k_neon(const uint8_t *g, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy, int nrows, int nc)
{
    NDISPATCH(q6kn_body)
}
static T_NP void q5k_neon(const uint8_t *g, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy, int nrows, int nc)
{
    NDISPATCH(q45kn_body, 1)
}
static T_NP void q40_neon(const uint8_t *g, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy, int nrows, int nc)
{
    NDISPATCH(q450n_body, 0)
}
static T_NP void q50_neon(const uint8_t *g, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy, int nrows, int nc)
{
    NDISPATCH(q450n_body, 1)
}

static pk_fn kernel_for_isa(el_type t, el_pk_isa isa)
{
    if (isa != EL_PK_NEON) return NULL;
    switch (t) {
    case EL_TYPE_Q8_0: return q8_neon;
    case EL_TYPE_Q4_K: return q4k_neon;
    case EL_TYPE_Q5_K: return q5k_neon;
    case EL_TYPE_Q6_K: return q6k_neon;
    case EL_TYPE_Q4_0: return q40_neon;
    case EL_TYPE_Q5_0: return q50_neon;
    default: return NULL;
    }
}
#else
static pk_fn kernel_for_isa(el_type t, el_pk_isa isa)
{
    (void)t, (void)isa;
    return NULL;
}
#endif

/* 16 float rows of nb elements (row after row at g) against nc <= 4 F32
 * activation rows: the fdot kernels of the best ISA, EL_FDOT_TILE_NW rows at
 * once where there is a tile kernel. The same numbers as the general path's
 * float product (ops.c), bit for bit. */
static el_fdot_isa frows_isa(void)
{
    static _Atomic int isa = -1;   /* el_fdot_best_isa reads the environment */
    int v = atomic_load_explicit(&isa, memory_order_relaxed);
    if (v < 0) atomic_store_explicit(&isa, v = (int)el_fdot_best_isa(), memory_order_relaxed);
    return (el_fdot_isa)v;
}
static void frows(el_type t, const uint8_t *g, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy, int nrows,
                  int nc)
{
    el_fdot_isa isa = frows_isa();
    el_fdot_fn fn = el_fdot_get(t, isa);
    /* decode (one activation row): row after row, one stream through the group;
     * a tile would read 4 rows side by side, 4 short streams the prefetcher
     * follows badly (SmolLM2 F16 decode at half speed) */
    el_fdot_tile_fn tf = nc >= 2 ? el_fdot_get_tile(t, isa) : NULL;
    size_t row = (size_t)nb * 2;   /* F16 and BF16 */
    float out[4 * EL_FDOT_TILE_NW];
    for (int q = 0, k; q < nrows; q += k) {
        k = tf ? el_fdot_tile_rows(nrows - q) : 1;
        if (k > 1) tf(nb, g + (size_t)q * row, row, k, act, ast, nc, out);
        else fn(nb, g + (size_t)q * row, act, ast, nc, out);
        for (int e = 0; e < k; e++)
            for (int c = 0; c < nc; c++) y[(size_t)c * ldy + q + e] = out[4 * e + c];
    }
}
static void frows_f16(const uint8_t *g, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy, int nrows, int nc)
{
    frows(EL_TYPE_F16, g, nb, act, ast, y, ldy, nrows, nc);
}
static void frows_bf16(const uint8_t *g, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy, int nrows, int nc)
{
    frows(EL_TYPE_BF16, g, nb, act, ast, y, ldy, nrows, nc);
}

/* Float rows go with any packing ISA (their kernels are chosen by fdot.h),
 * except BF16 when EL_BF16_DOT=1 asks for vdpbf16ps on BF16 activations. */
static pk_fn kernel_for(el_type t, el_pk_isa isa)
{
    if (is_float(t)) {
        el_fdot_isa fi = el_fdot_best_isa();
        if (isa == EL_PK_NONE || !el_fdot_get(t, fi) || el_fdot_bf16_act(t, fi)) return NULL;
        return t == EL_TYPE_F16 ? frows_f16 : frows_bf16;
    }
    return kernel_for_isa(t, isa);
}

void el_packed_kernel(const el_packed *p, int64_t g0, int64_t g1, const uint8_t *act, size_t act_row, int nc,
                      float *Y, size_t ldy)
{
    pk_fn fn = kernel_for(p->type, (el_pk_isa)p->isa);
    if (!fn) return;   /* never packed for an ISA without a kernel (el_repack_supports) */
    int64_t nb = p->in / blk_len(p->type);
    for (int64_t g = g0; g < g1; g++) {
        int64_t left = p->out - g * G;
        fn(p->data + (size_t)g * p->group_bytes, nb, act, act_row, Y + g * G, ldy, left < G ? (int)left : G, nc);
    }
}
