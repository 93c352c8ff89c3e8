/* repack_ymm.h -- 256-bit kernels for the packed layouts (included by
 * repack.c once per instruction set). A group of 16 rows is done as two halves
 * of 8 rows (the first and second 32 bytes of every 64-byte step).
 *
 * Before including, define:
 *   YT       the target attribute
 *   YSUF     a name suffix
 *   YVNNI    1: vpdpbusd (u8 x s8 summed in fours into int32) is available
 *            as YDPBUSD(acc, u8, s8); 0: AVX2's vpmaddubsw into int16 pairs,
 *            summed while they cannot overflow, then vpmaddwd into int32.
 *
 * AVX2 bounds (codes are unsigned, activations int8): q4_K codes <= 15, so a
 * sub-block's 8 steps sum to at most 8 * 2 * 15 * 127 = 30480 in int16; q6_K
 * codes <= 63, two steps at most 2 * 2 * 63 * 127 = 32004. q8_0 codes are
 * stored + 128 (<= 255) and would overflow int16: q8_0 needs YVNNI. q4_0
 * and q5_0 codes <= 31: half a block (two 64-byte steps, four vpmaddubsw)
 * sums to at most 4 * 2 * 31 * 127 = 31496. */

#define YCAT2(a, b) a##b
#define YCAT(a, b) YCAT2(a, b)
#define YN(name) YCAT(name, YSUF)

ALWAYS YT __m256i YN(bc4_)(const void *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

ALWAYS YT void YN(store8_)(float *y, __m256 v, int nrows)
{
    if (nrows >= 8) {
        _mm256_storeu_ps(y, v);
    } else if (nrows > 0) {
        float t[8];
        _mm256_storeu_ps(t, v);
        memcpy(y, t, (size_t)nrows * sizeof(float));
    }
}

#if YVNNI
ALWAYS YT void YN(q8h_)(const uint8_t *g0, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy, int nrows,
                        const int H, const int NC)
{
    __m256 facc[4];
    UNROLL8 for (int c = 0; c < NC; c++) facc[c] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        __m256 dw = _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(g0 + q8_scale_off(b) + 16 * H)));
        const uint8_t *g = g0 + q8_code_off(b) + 32 * H;
        const el_act_q8 *a[4];
        __m256i acc[4];
        UNROLL8 for (int c = 0; c < NC; c++)
        {
            a[c] = (const el_act_q8 *)(act + c * ast) + b;
            acc[c] = _mm256_set1_epi32(-128 * a[c]->sum);
        }
        UNROLL8 for (int k = 0; k < 8; k++)
        {
            __m256i w = _mm256_load_si256((const __m256i *)(g + 64 * k));
            UNROLL8 for (int c = 0; c < NC; c++) acc[c] = YDPBUSD(acc[c], w, YN(bc4_)(a[c]->qs + 4 * k));
        }
        UNROLL8 for (int c = 0; c < NC; c++)
            facc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[c]), _mm256_mul_ps(dw, _mm256_set1_ps(a[c]->d)), facc[c]);
    }
    UNROLL8 for (int c = 0; c < NC; c++) YN(store8_)(y + c * ldy + 8 * H, facc[c], nrows - 8 * H);
}
#endif

/* step k's fifth bits to bit 4 of the codes (as add_fifth_bits in repack.c) */
ALWAYS YT void YN(fifth_)(__m256i hb, const int k, __m256i *lo, __m256i *hi)
{
    const __m256i m10 = _mm256_set1_epi8(0x10);
    __m256i hl = k < 3 ? _mm256_slli_epi16(hb, 4 - 2 * k) : _mm256_srli_epi16(hb, 2);
    __m256i hh = k < 2 ? _mm256_slli_epi16(hb, 3 - 2 * k) : _mm256_srli_epi16(hb, 2 * k - 3);
    *lo = _mm256_or_si256(*lo, _mm256_and_si256(hl, m10));
    *hi = _mm256_or_si256(*hi, _mm256_and_si256(hh, m10));
}

/* q4_K (Q5 = 0) and q5_K (Q5 = 1); AVX2 sums q5_K's sub-block in two int16
 * halves (codes <= 31, as q4_0 / q5_0) */
ALWAYS YT void YN(q45kh_)(const uint8_t *g, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy, int nrows,
                          const int H, const int NC, const int Q5)
{
    const __m256i m4 = _mm256_set1_epi8(15);
#if !YVNNI
    const __m256i ones = _mm256_set1_epi16(1);
#endif
    __m256 facc[4];
    UNROLL8 for (int c = 0; c < NC; c++) facc[c] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++, g += Q5 ? 2880 : 2368) {
        const act_x16k *a[4];
        __m256 tmp[4];
        UNROLL8 for (int c = 0; c < NC; c++) a[c] = (const act_x16k *)(act + c * ast) + b, tmp[c] = _mm256_setzero_ps();
        const uint8_t *scb = g + 64, *mnb = scb + 8 * G, *nib = mnb + 8 * G + 32 * H;
        for (int j = 0; j < 8; j++) {
            __m256 sc = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(scb + j * G + 8 * H))));
            __m256i s[4][2];
            UNROLL8 for (int c = 0; c < NC; c++) s[c][0] = s[c][1] = _mm256_setzero_si256();
            __m256i hb = Q5 ? _mm256_load_si256((const __m256i *)(g + Q5K_HB(j) + 32 * H)) : m4;
            UNROLL8 for (int h = 0; h < 4; h++)
            {
                __m256i v = _mm256_load_si256((const __m256i *)(Q5 ? g + Q5K_NIB(j, h) + 32 * H : nib + (j * 4 + h) * 64));
                __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
                if (Q5) YN(fifth_)(hb, h, &lo, &hi);
                UNROLL8 for (int c = 0; c < NC; c++)
                {
                    const int8_t *q = a[c]->qs + 32 * j + 8 * h;
#if YVNNI
                    s[c][0] = YDPBUSD(s[c][0], lo, YN(bc4_)(q));
                    s[c][0] = YDPBUSD(s[c][0], hi, YN(bc4_)(q + 4));
#else
                    const int e = Q5 ? h / 2 : 0;
                    s[c][e] = _mm256_add_epi16(s[c][e], _mm256_maddubs_epi16(lo, YN(bc4_)(q)));
                    s[c][e] = _mm256_add_epi16(s[c][e], _mm256_maddubs_epi16(hi, YN(bc4_)(q + 4)));
#endif
                }
            }
            UNROLL8 for (int c = 0; c < NC; c++)
            {
#if !YVNNI
                s[c][0] = _mm256_madd_epi16(s[c][0], ones);
                if (Q5) s[c][0] = _mm256_add_epi32(s[c][0], _mm256_madd_epi16(s[c][1], ones));
#endif
                tmp[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[c][0]), sc, tmp[c]);
            }
        }
        __m256 d = _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(g + 16 * H)));
        __m256 dmin = _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(g + 32 + 16 * H)));
        __m256i mn[4];
        UNROLL8 for (int p = 0; p < 4; p++) mn[p] = _mm256_cvtepu8_epi16(_mm_load_si128((const __m128i *)(mnb + p * 32 + 16 * H)));
        UNROLL8 for (int c = 0; c < NC; c++)
        {
            __m256i m = _mm256_madd_epi16(mn[0], YN(bc4_)(a[c]->bsum32));
            UNROLL8 for (int p = 1; p < 4; p++) m = _mm256_add_epi32(m, _mm256_madd_epi16(mn[p], YN(bc4_)(a[c]->bsum32 + 2 * p)));
            __m256 da = _mm256_set1_ps(a[c]->d);
            facc[c] = _mm256_fmadd_ps(tmp[c], _mm256_mul_ps(d, da), facc[c]);
            facc[c] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(m), _mm256_mul_ps(dmin, da), facc[c]);
        }
    }
    UNROLL8 for (int c = 0; c < NC; c++) YN(store8_)(y + c * ldy + 8 * H, facc[c], nrows - 8 * H);
}


/* q4_0 (Q5 = 0) and q5_0 (Q5 = 1), as q450_body in repack.c */
ALWAYS YT void YN(q450h_)(const uint8_t *g0, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy, int nrows,
                          const int H, const int NC, const int Q5)
{
    const el_type t = Q5 ? EL_TYPE_Q5_0 : EL_TYPE_Q4_0;
    const __m256i m4 = _mm256_set1_epi8(15);
#if !YVNNI
    const __m256i ones = _mm256_set1_epi16(1);
#endif
    __m256 facc[4];
    UNROLL8 for (int c = 0; c < NC; c++) facc[c] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        __m256 dw = _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(g0 + sb_scale_off(t, b) + 16 * H)));
        const uint8_t *g = g0 + sb_code_off(t, b) + 32 * H, *nib = g + (Q5 ? 64 : 0);
        const el_act_q8 *a[4];
        __m256i acc[4][2];
        UNROLL8 for (int c = 0; c < NC; c++)
        {
            a[c] = (const el_act_q8 *)(act + c * ast) + b;
            acc[c][0] = acc[c][1] = _mm256_setzero_si256();
        }
        __m256i hb = Q5 ? _mm256_load_si256((const __m256i *)g) : _mm256_setzero_si256();
        UNROLL8 for (int k = 0; k < 4; k++)
        {
            __m256i v = _mm256_load_si256((const __m256i *)(nib + 64 * k));
            __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
            if (Q5) YN(fifth_)(hb, k, &lo, &hi);
            UNROLL8 for (int c = 0; c < NC; c++)
            {
                const int8_t *q = a[c]->qs + 8 * k;
#if YVNNI
                acc[c][k / 2] = YDPBUSD(acc[c][k / 2], lo, YN(bc4_)(q));
                acc[c][k / 2] = YDPBUSD(acc[c][k / 2], hi, YN(bc4_)(q + 4));
#else
                acc[c][k / 2] = _mm256_add_epi16(acc[c][k / 2], _mm256_maddubs_epi16(lo, YN(bc4_)(q)));
                acc[c][k / 2] = _mm256_add_epi16(acc[c][k / 2], _mm256_maddubs_epi16(hi, YN(bc4_)(q + 4)));
#endif
            }
        }
        UNROLL8 for (int c = 0; c < NC; c++)
        {
#if YVNNI
            __m256i s = _mm256_add_epi32(acc[c][0], acc[c][1]);
#else
            __m256i s = _mm256_add_epi32(_mm256_madd_epi16(acc[c][0], ones), _mm256_madd_epi16(acc[c][1], ones));
#endif
            s = _mm256_add_epi32(s, _mm256_set1_epi32((Q5 ? -16 : -8) * a[c]->sum));
            facc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(dw, _mm256_set1_ps(a[c]->d)), facc[c]);
        }
    }
    UNROLL8 for (int c = 0; c < NC; c++) YN(store8_)(y + c * ldy + 8 * H, facc[c], nrows - 8 * H);
}

ALWAYS YT void YN(q6kh_)(const uint8_t *g, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy, int nrows,
                         const int H, const int NC)
{
    const __m256i m4 = _mm256_set1_epi8(15), m30 = _mm256_set1_epi8(0x30);
#if !YVNNI
    const __m256i ones = _mm256_set1_epi16(1);
#endif
    __m256 facc[4];
    UNROLL8 for (int c = 0; c < NC; c++) facc[c] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++, g += 3392) {
        const act_x16k *a[4];
        __m256 tmp[4];
        UNROLL8 for (int c = 0; c < NC; c++) a[c] = (const act_x16k *)(act + c * ast) + b, tmp[c] = _mm256_setzero_ps();
        const uint8_t *scb = g + 64;
        for (int j = 0; j < 16; j++) {
            __m256 sc = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(scb + j * G + 8 * H))));
            __m256i hv = _mm256_load_si256((const __m256i *)(g + Q6_HIB(j) + 32 * H));
            __m256i q[4];
            UNROLL8 for (int h = 0; h < 2; h++)
            {
                __m256i v = _mm256_load_si256((const __m256i *)(g + Q6_NIB(j, h) + 32 * H));
                __m256i hl = h == 0 ? _mm256_slli_epi16(hv, 4) : hv;
                __m256i hh = h == 0 ? _mm256_slli_epi16(hv, 2) : _mm256_srli_epi16(hv, 2);
                q[2 * h] = _mm256_or_si256(_mm256_and_si256(v, m4), _mm256_and_si256(hl, m30));
                q[2 * h + 1] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), m4), _mm256_and_si256(hh, m30));
            }
            UNROLL8 for (int c = 0; c < NC; c++)
            {
                const int8_t *qa = a[c]->qs + 16 * j;
#if YVNNI
                __m256i s = _mm256_set1_epi32(a[c]->bias6[j]);
                s = YDPBUSD(s, q[0], YN(bc4_)(qa));
                s = YDPBUSD(s, q[1], YN(bc4_)(qa + 4));
                s = YDPBUSD(s, q[2], YN(bc4_)(qa + 8));
                s = YDPBUSD(s, q[3], YN(bc4_)(qa + 12));
#else
                __m256i p01 = _mm256_add_epi16(_mm256_maddubs_epi16(q[0], YN(bc4_)(qa)), _mm256_maddubs_epi16(q[1], YN(bc4_)(qa + 4)));
                __m256i p23 = _mm256_add_epi16(_mm256_maddubs_epi16(q[2], YN(bc4_)(qa + 8)), _mm256_maddubs_epi16(q[3], YN(bc4_)(qa + 12)));
                __m256i s = _mm256_add_epi32(_mm256_madd_epi16(p01, ones), _mm256_madd_epi16(p23, ones));
                s = _mm256_add_epi32(s, _mm256_set1_epi32(a[c]->bias6[j]));
#endif
                tmp[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), sc, tmp[c]);
            }
        }
        __m256 d = _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(g + 16 * H)));
        UNROLL8 for (int c = 0; c < NC; c++) facc[c] = _mm256_fmadd_ps(tmp[c], _mm256_mul_ps(d, _mm256_set1_ps(a[c]->d)), facc[c]);
    }
    UNROLL8 for (int c = 0; c < NC; c++) YN(store8_)(y + c * ldy + 8 * H, facc[c], nrows - 8 * H);
}

/* the whole group: both halves (the second only if it has rows) */
#define YDISPATCH(BODY, ...)                                                                            \
    for (int h = 0; h < 2 && 8 * h < nrows; h++) {                                                      \
        switch (nc) {                                                                                   \
        case 1: h ? BODY(g, nb, act, ast, y, ldy, nrows, 1, 1, ##__VA_ARGS__) : BODY(g, nb, act, ast, y, ldy, nrows, 0, 1, ##__VA_ARGS__); break; \
        case 2: h ? BODY(g, nb, act, ast, y, ldy, nrows, 1, 2, ##__VA_ARGS__) : BODY(g, nb, act, ast, y, ldy, nrows, 0, 2, ##__VA_ARGS__); break; \
        case 3: h ? BODY(g, nb, act, ast, y, ldy, nrows, 1, 3, ##__VA_ARGS__) : BODY(g, nb, act, ast, y, ldy, nrows, 0, 3, ##__VA_ARGS__); break; \
        default: h ? BODY(g, nb, act, ast, y, ldy, nrows, 1, 4, ##__VA_ARGS__) : BODY(g, nb, act, ast, y, ldy, nrows, 0, 4, ##__VA_ARGS__); break; \
        }                                                                                               \
    }

#if YVNNI
static YT void YN(q8_)(const uint8_t *g, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy, int nrows, int nc)
{
    YDISPATCH(YN(q8h_))
}
#endif
static YT void YN(q4k_)(const uint8_t *g, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy, int nrows, int nc)
{
    YDISPATCH(YN(q45kh_), 0)
}
static YT void YN(q6k_)(const uint8_t *g, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy, int nrows, int nc)
{
    YDISPATCH(YN(q6kh_))
}
static YT void YN(q5k_)(const uint8_t *g, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy, int nrows, int nc)
{
    YDISPATCH(YN(q45kh_), 1)
}
static YT void YN(q40_)(const uint8_t *g, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy, int nrows, int nc)
{
    YDISPATCH(YN(q450h_), 0)
}
static YT void YN(q50_)(const uint8_t *g, int64_t nb, const uint8_t *act, size_t ast, float *y, size_t ldy, int nrows, int nc)
{
    YDISPATCH(YN(q450h_), 1)
}

#undef YDISPATCH
#undef YN
#undef YCAT
#undef YCAT2
