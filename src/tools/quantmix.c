/* quantmix.c -- which type llama.cpp's quantiser gives each tensor, per file
 * type (the facts of llama_tensor_get_type for dense llama-family models). */
#include "edgelm/tools.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
    el_ftype ft;
    const char *name;
    el_type base;
} g_ftypes[] = {
    {EL_FTYPE_ALL_F32, "f32", EL_TYPE_F32},   {EL_FTYPE_F16, "f16", EL_TYPE_F16},
    {EL_FTYPE_BF16, "bf16", EL_TYPE_BF16},    {EL_FTYPE_Q8_0, "q8_0", EL_TYPE_Q8_0},
    {EL_FTYPE_Q4_0, "q4_0", EL_TYPE_Q4_0},    {EL_FTYPE_Q4_1, "q4_1", EL_TYPE_Q4_1},
    {EL_FTYPE_Q5_0, "q5_0", EL_TYPE_Q5_0},    {EL_FTYPE_Q5_1, "q5_1", EL_TYPE_Q5_1},
    {EL_FTYPE_Q4_K_M, "q4_k_m", EL_TYPE_Q4_K}, {EL_FTYPE_Q5_K_M, "q5_k_m", EL_TYPE_Q5_K},
    {EL_FTYPE_Q6_K, "q6_k", EL_TYPE_Q6_K},
};
#define N_FTYPES (sizeof g_ftypes / sizeof g_ftypes[0])

int el_ftype_from_name(const char *name)
{
    for (size_t i = 0; i < N_FTYPES; i++)
        if (strcasecmp(name, g_ftypes[i].name) == 0) return (int)g_ftypes[i].ft;
    return -1;
}

const char *el_ftype_name(el_ftype ft)
{
    for (size_t i = 0; i < N_FTYPES; i++)
        if (g_ftypes[i].ft == ft) return g_ftypes[i].name;
    return "?";
}

static el_type ftype_base(el_ftype ft)
{
    for (size_t i = 0; i < N_FTYPES; i++)
        if (g_ftypes[i].ft == ft) return g_ftypes[i].base;
    return EL_TYPE_F32;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* llama.cpp's "use more bits" layers: the first and last eighth, and every
 * third layer in between. */
static bool use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

static el_type fallback(el_type t, int64_t ne0)
{
    el_type f;
    switch (t) {
    case EL_TYPE_Q4_K: f = EL_TYPE_Q5_0; break;
    case EL_TYPE_Q5_K: f = EL_TYPE_Q5_1; break;
    case EL_TYPE_Q6_K: f = EL_TYPE_Q8_0; break;
    default: f = EL_TYPE_F16; break;
    }
    if (ne0 % el_type_info(f)->block_size != 0) f = EL_TYPE_F16;
    return f;
}

el_type el_ftype_tensor_type(el_ftype ft, const char *name, uint32_t n_dims, const int64_t *ne,
                             int layer, int n_layer, bool has_output)
{
    el_type base = ftype_base(ft);
    bool quantize = n_dims >= 2 && ends_with(name, "weight") && !strstr(name, "_norm.") &&
                    strcmp(name, "rope_freqs.weight") != 0;
    if (!quantize) return EL_TYPE_F32;
    if (!el_type_info(base)->is_quantized) return base;   /* f32 / f16 / bf16: no mix */

    el_type t = base;
    bool is_output = strcmp(name, "output.weight") == 0 ||
                     (!has_output && strcmp(name, "token_embd.weight") == 0);
    int64_t bs = el_type_info(base)->block_size;
    if (is_output) {
        if (ne[0] % bs != 0) t = EL_TYPE_Q8_0;
        else if (base != EL_TYPE_Q8_0) t = EL_TYPE_Q6_K;
    } else if (strstr(name, "attn_v.weight")) {
        if ((ft == EL_FTYPE_Q4_K_M || ft == EL_FTYPE_Q5_K_M) && use_more_bits(layer, n_layer)) t = EL_TYPE_Q6_K;
    } else if (strstr(name, "ffn_down")) {
        if ((ft == EL_FTYPE_Q4_K_M || ft == EL_FTYPE_Q5_K_M) && use_more_bits(layer, n_layer)) t = EL_TYPE_Q6_K;
    } else if (strstr(name, "attn_qkv.weight")) {
        if (ft == EL_FTYPE_Q4_K_M) t = EL_TYPE_Q5_K;
        else if (ft == EL_FTYPE_Q5_K_M) t = EL_TYPE_Q6_K;
    }
    if (ne[0] % el_type_info(t)->block_size != 0) t = fallback(t, ne[0]);
    return t;
}
