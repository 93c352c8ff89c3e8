/* tok_convert.c -- Hugging Face tokenizer.json (+ tokenizer_config.json) to a
 * vocabulary-only GGUF with the tokenizer.ggml.* keys written the way
 * llama.cpp's convert_hf_to_gguf.py / gguf-py SpecialVocab write them:
 *
 *   BPE + ByteLevel            -> model "gpt2": tokens, token_type, merges,
 *                                 pre detected from the Split regex (llama-bpe,
 *                                 qwen2, qwen35) or ByteLevel's own regex (gpt-2)
 *   BPE + byte_fallback        -> model "llama": tokens, token_type (<0xNN> are
 *                                 BYTE), scores (see below)
 *   WordPiece                  -> model "bert": tokens in llama.cpp's phantom-
 *                                 space form ("\u2581word", "##x" -> "x")
 *
 * Token types: added tokens marked special (or looking special: <|...|>) are
 * CONTROL, other added tokens USER_DEFINED, the rest NORMAL; ids missing from
 * the vocabulary become "[PADn]" UNUSED. Special ids (bos/eos/unk/sep/pad/
 * cls/mask) come from tokenizer_config.json's *_token entries matched against
 * added_tokens; add_bos/add_eos from its add_*_token flags or the
 * TemplateProcessing post-processor.
 *
 * Scores of SentencePiece-style BPE: llama.cpp's LlamaHfVocab writes a
 * placeholder -1000 for every token; we write -(rank of the merge producing
 * the token) so that llama.cpp's score-driven SPM merging reproduces the BPE
 * merge order (tokens no merge produces get -1e9, added tokens -1000). */
#include <cjson/cJSON.h>

#include "tok_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HF_RE_LLAMA3 "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define HF_RE_QWEN2 "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define HF_RE_QWEN35 "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

#define HF_MAX_VOCAB (1 << 24)

typedef struct hf_vocab {
    int32_t n;
    char **tok;       /* [n] owned */
    int32_t *type;    /* [n] EL_TOKEN_* */
    float *score;     /* [n] */
    bool *added;      /* [n] */
} hf_vocab;

static void hf_vocab_free(hf_vocab *v)
{
    if (v->tok)
        for (int32_t i = 0; i < v->n; i++) free(v->tok[i]);
    free(v->tok);
    free(v->type);
    free(v->score);
    free(v->added);
}

static const char *hf_str(const cJSON *o, const char *key)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

static bool hf_bool(const cJSON *o, const char *key, bool dflt)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsBool(x) ? cJSON_IsTrue(x) : dflt;
}

static bool hf_int(const cJSON *x, int32_t *out)
{
    if (!cJSON_IsNumber(x)) return false;
    double d = x->valuedouble;
    if (!(d >= 0 && d < HF_MAX_VOCAB) || d != (double)(int32_t)d) return false;
    *out = (int32_t)d;
    return true;
}

/* convert_hf_to_gguf.py's does_token_look_special */
static bool hf_looks_special(const char *s)
{
    size_t n = strlen(s);
#define ENDS(x) (n >= strlen(x) && strcmp(s + n - strlen(x), x) == 0)
#define STARTS(x) (strncmp(s, x, strlen(x)) == 0)
    if (!strcmp(s, "<pad>") || !strcmp(s, "<mask>") || !strcmp(s, "<2mass>") || !strcmp(s, "[@BOS@]")) return true;
    if (n >= 4 && STARTS("<|") && ENDS("|>")) return true;
    if (n >= 8 && STARTS("<\xef\xbd\x9c") && ENDS("\xef\xbd\x9c>")) return true;
    if (STARTS("<unused") && ENDS(">")) return true;
    return false;
#undef ENDS
#undef STARTS
}

/* a config entry "x_token": string or {"content": string} */
static const char *hf_config_token(const cJSON *cfg, const char *key)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(cfg, key);
    if (cJSON_IsString(e)) return e->valuestring;
    if (cJSON_IsObject(e)) return hf_str(e, "content");
    return NULL;
}

static int32_t hf_added_id(const cJSON *added, const char *content)
{
    if (!content) return -1;
    const cJSON *a;
    cJSON_ArrayForEach(a, added)
    {
        const char *c = hf_str(a, "content");
        int32_t id;
        if (c && strcmp(c, content) == 0 && hf_int(cJSON_GetObjectItemCaseSensitive(a, "id"), &id)) return id;
    }
    return -1;
}

static char *hf_strdup(const char *s, el_err *err)
{
    size_t n = strlen(s);
    char *d = el_malloc(n + 1, err);
    if (d) memcpy(d, s, n + 1);
    return d;
}

/* replace every occurrence of U+2581 by ' ' (user-defined tokens are stored pre-normalised) */
static void hf_unescape_spaces(char *s)
{
    char *o = s;
    for (char *p = s; *p;) {
        if ((uint8_t)p[0] == 0xe2 && (uint8_t)p[1] == 0x96 && (uint8_t)p[2] == 0x81) {
            *o++ = ' ';
            p += 3;
        } else {
            *o++ = *p++;
        }
    }
    *o = 0;
}

/* Find the pre-tokenizer's Split regex (or note a plain ByteLevel with its own regex). */
static const char *hf_detect_pre(const cJSON *pt)
{
    if (!cJSON_IsObject(pt)) return "default";
    const char *type = hf_str(pt, "type");
    if (type && !strcmp(type, "Sequence")) {
        const cJSON *x;
        const char *found = "default";
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(pt, "pretokenizers"))
        {
            const char *r = hf_detect_pre(x);
            if (strcmp(r, "default") != 0) found = r;
        }
        return found;
    }
    if (type && !strcmp(type, "Split")) {
        const cJSON *pat = cJSON_GetObjectItemCaseSensitive(pt, "pattern");
        const char *re = hf_str(pat, "Regex");
        if (re && !strcmp(re, HF_RE_LLAMA3)) return "llama-bpe";
        if (re && !strcmp(re, HF_RE_QWEN2)) return "qwen2";
        if (re && !strcmp(re, HF_RE_QWEN35)) return "qwen35";
        return "default";
    }
    if (type && !strcmp(type, "ByteLevel") && hf_bool(pt, "use_regex", true)) return "gpt-2";
    return "default";
}

typedef enum { HF_GPT2, HF_LLAMA, HF_BERT } hf_kind;

static int hf_build_vocab(const cJSON *model, const cJSON *added, const char *name, hf_vocab *v, el_err *err)
{
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    if (!cJSON_IsObject(vocab)) return el_errf(err, "%s: key 'model.vocab' is missing or not an object", name);
    int32_t max_id = -1, id;
    const cJSON *x;
    cJSON_ArrayForEach(x, vocab)
    {
        if (!hf_int(x, &id))
            return el_errf(err, "%s: key 'model.vocab': token '%.40s' has id that is not an integer in [0, %d)",
                           name, x->string ? x->string : "", HF_MAX_VOCAB);
        if (id > max_id) max_id = id;
    }
    cJSON_ArrayForEach(x, added)
    {
        if (!cJSON_IsObject(x) || !hf_str(x, "content") || !hf_int(cJSON_GetObjectItemCaseSensitive(x, "id"), &id))
            return el_errf(err, "%s: key 'added_tokens': entry without string 'content' and integer 'id'", name);
        if (id > max_id) max_id = id;
    }
    if (max_id < 0) return el_errf(err, "%s: key 'model.vocab' is empty", name);
    v->n = max_id + 1;
    v->tok = el_calloc((size_t)v->n, sizeof *v->tok, err);
    v->type = el_calloc((size_t)v->n, sizeof *v->type, err);
    v->score = el_calloc((size_t)v->n, sizeof *v->score, err);
    v->added = el_calloc((size_t)v->n, sizeof *v->added, err);
    if (!v->tok || !v->type || !v->score || !v->added) return -1;
    cJSON_ArrayForEach(x, vocab)
    {
        hf_int(x, &id);
        if (v->tok[id]) continue; // two strings with one id: keep the first
        if (!(v->tok[id] = hf_strdup(x->string ? x->string : "", err))) return -1;
        v->type[id] = EL_TOKEN_NORMAL;
    }
    cJSON_ArrayForEach(x, added)
    {
        hf_int(cJSON_GetObjectItemCaseSensitive(x, "id"), &id);
        const char *c = hf_str(x, "content");
        free(v->tok[id]);
        if (!(v->tok[id] = hf_strdup(c, err))) return -1;
        v->added[id] = true;
        v->type[id] = (hf_bool(x, "special", false) || hf_looks_special(c)) ? EL_TOKEN_CONTROL : EL_TOKEN_USER_DEFINED;
        v->score[id] = -1000.0f;
    }
    for (int32_t i = 0; i < v->n; i++) {
        if (v->tok[i]) continue;
        char buf[32];
        snprintf(buf, sizeof buf, "[PAD%d]", i);
        if (!(v->tok[i] = hf_strdup(buf, err))) return -1;
        v->type[i] = EL_TOKEN_UNUSED;
    }
    return 0;
}

/* merges as "a b" strings (pairs joined; spaces inside parts become U+0120) */
static char **hf_merges(const cJSON *model, const char *name, int32_t *n_out, el_err *err)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(model, "merges");
    *n_out = 0;
    if (!m) return NULL;
    if (!cJSON_IsArray(m)) {
        el_errf(err, "%s: key 'model.merges' is not an array", name);
        return NULL;
    }
    int n = cJSON_GetArraySize(m);
    char **out = el_calloc((size_t)n + 1, sizeof *out, err);
    if (!out) return NULL;
    int k = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, m)
    {
        if (cJSON_IsString(x)) {
            out[k] = hf_strdup(x->valuestring, err);
        } else if (cJSON_IsArray(x) && cJSON_GetArraySize(x) == 2 && cJSON_IsString(cJSON_GetArrayItem(x, 0)) &&
                   cJSON_IsString(cJSON_GetArrayItem(x, 1))) {
            const char *a = cJSON_GetArrayItem(x, 0)->valuestring, *b = cJSON_GetArrayItem(x, 1)->valuestring;
            size_t la = strlen(a), lb = strlen(b);
            out[k] = el_malloc(2 * (la + lb) + 2, err);
            if (out[k]) {
                size_t o = 0;
                for (int part = 0; part < 2; part++) {
                    for (const char *p = part ? b : a; *p; p++) {
                        if (*p == ' ') { // U+0120
                            out[k][o++] = (char)0xc4;
                            out[k][o++] = (char)0xa0;
                        } else {
                            out[k][o++] = *p;
                        }
                    }
                    if (!part) out[k][o++] = ' ';
                }
                out[k][o] = 0;
            }
        } else {
            el_errf(err, "%s: key 'model.merges': entry %d is neither a string nor a pair of strings", name, k);
            for (int i = 0; i < k; i++) free(out[i]);
            free(out);
            return NULL;
        }
        if (!out[k]) {
            for (int i = 0; i < k; i++) free(out[i]);
            free(out);
            return NULL;
        }
        k++;
    }
    *n_out = k;
    return out;
}

/* SentencePiece-style scores from the merge ranks (see the file comment) */
static int hf_spm_scores(hf_vocab *v, char **merges, int32_t n_merges, el_err *err)
{
    tok_map map;
    if (tok_map_init(&map, (size_t)v->n) != 0) return el_errf(err, "out of memory");
    for (int32_t i = 0; i < v->n; i++) {
        if (tok_map_put(&map, v->tok[i], strlen(v->tok[i]), i) < 0) {
            tok_map_free(&map);
            return el_errf(err, "out of memory");
        }
        if (!v->added[i]) v->score[i] = -1e9f;
    }
    char *buf = NULL;
    size_t cap = 0;
    for (int32_t r = n_merges - 1; r >= 0; r--) { // lowest rank written last wins
        const char *m = merges[r];
        const char *sp = m[0] ? strchr(m + 1, ' ') : NULL;
        if (!sp) continue;
        size_t la = (size_t)(sp - m), lb = strlen(sp + 1);
        if (la + lb + 1 > cap) {
            cap = (la + lb + 1) * 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                tok_map_free(&map);
                return el_errf(err, "out of memory");
            }
            buf = nb;
        }
        memcpy(buf, m, la);
        memcpy(buf + la, sp + 1, lb);
        int32_t id = tok_map_get(&map, buf, la + lb);
        if (id >= 0 && !v->added[id]) v->score[id] = -(float)r;
    }
    free(buf);
    tok_map_free(&map);
    return 0;
}

el_gguf_writer *el_tokenizer_hf_to_gguf(const char *json, size_t json_len, const char *config, size_t config_len,
                                        const char *pre, el_err *err)
{
    const char *name = "tokenizer.json";
    cJSON *root = cJSON_ParseWithLength(json, json_len);
    cJSON *cfg = config ? cJSON_ParseWithLength(config, config_len) : NULL;
    el_gguf_writer *w = NULL;
    hf_vocab v = {0};
    char **merges = NULL;
    int32_t n_merges = 0;
    bool ok = false;
    if (!cJSON_IsObject(root)) {
        el_errf(err, "%s: not a JSON object (parse error near byte %td)", name,
                root ? (ptrdiff_t)0 : (cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - json : (ptrdiff_t)0));
        goto done;
    }
    if (config && !cJSON_IsObject(cfg)) {
        el_errf(err, "tokenizer_config.json: not a JSON object");
        goto done;
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const char *mtype = hf_str(model, "type");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    if (added && !cJSON_IsArray(added)) {
        el_errf(err, "%s: key 'added_tokens' is not an array", name);
        goto done;
    }
    hf_kind kind;
    if (mtype && !strcmp(mtype, "BPE")) {
        kind = hf_bool(model, "byte_fallback", false) ? HF_LLAMA : HF_GPT2;
    } else if (mtype && !strcmp(mtype, "WordPiece")) {
        kind = HF_BERT;
    } else {
        el_errf(err, "%s: key 'model.type' is '%.32s', expected 'BPE' or 'WordPiece'", name, mtype ? mtype : "(missing)");
        goto done;
    }
    if (hf_build_vocab(model, added, name, &v, err) != 0) goto done;

    if (kind != HF_BERT) {
        merges = hf_merges(model, name, &n_merges, err);
        if (!merges && cJSON_GetObjectItemCaseSensitive(model, "merges")) goto done;
    }
    if (kind == HF_GPT2) {
        for (int32_t i = 0; i < v.n; i++)
            if (v.type[i] == EL_TOKEN_USER_DEFINED) hf_unescape_spaces(v.tok[i]);
    } else if (kind == HF_LLAMA) {
        for (int32_t i = 0; i < v.n; i++) {
            const char *s = v.tok[i];
            if (!v.added[i] && strlen(s) == 6 && !strncmp(s, "<0x", 3) && s[5] == '>') v.type[i] = EL_TOKEN_BYTE;
        }
        if (hf_spm_scores(&v, merges, n_merges, err) != 0) goto done;
    } else { // phantom-space form
        for (int32_t i = 0; i < v.n; i++) {
            if (v.type[i] == EL_TOKEN_CONTROL) continue;
            char *s = v.tok[i];
            size_t n = strlen(s);
            if (n >= 2 && s[0] == '#' && s[1] == '#') {
                memmove(s, s + 2, n - 1);
            } else {
                char *d = el_malloc(n + 4, err);
                if (!d) goto done;
                memcpy(d, "\xe2\x96\x81", 3);
                memcpy(d + 3, s, n + 1);
                free(s);
                v.tok[i] = d;
            }
        }
    }

    // special token ids (SpecialVocab: config *_token matched against added_tokens)
    static const char *const typ[] = {"bos", "eos", "unk", "sep", "pad", "cls", "mask"};
    static const char *const key[] = {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
        "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.seperator_token_id", "tokenizer.ggml.padding_token_id",
        "tokenizer.ggml.cls_token_id", "tokenizer.ggml.mask_token_id"};
    const char *content[7] = {0};
    int32_t ids[7];
    int add_bos = -1, add_eos = -1;
    for (int k = 0; k < 7; k++) {
        char kk[32];
        snprintf(kk, sizeof kk, "%s_token", typ[k]);
        content[k] = cfg ? hf_config_token(cfg, kk) : NULL;
    }
    if (!content[0] && content[5]) content[0] = content[5]; // bos <- cls
    if (!content[1] && content[3]) content[1] = content[3]; // eos <- sep
    const cJSON *post = cJSON_GetObjectItemCaseSensitive(root, "post_processor");
    if (cJSON_IsObject(post)) {
        const cJSON *procs = cJSON_GetObjectItemCaseSensitive(post, "processors");
        const cJSON *pr;
        int n_proc = cJSON_IsArray(procs) ? cJSON_GetArraySize(procs) : 1;
        for (int i = 0; i < n_proc; i++) {
            pr = cJSON_IsArray(procs) ? cJSON_GetArrayItem(procs, i) : post;
            const char *pt = hf_str(pr, "type");
            if (pt && !strcmp(pt, "RobertaProcessing")) {
                add_bos = add_eos = 1;
            } else if (pt && !strcmp(pt, "TemplateProcessing")) {
                const cJSON *single = cJSON_GetObjectItemCaseSensitive(pr, "single");
                int ns = cJSON_IsArray(single) ? cJSON_GetArraySize(single) : 0;
                if (ns > 1) {
                    const char *first = hf_str(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(single, 0), "SpecialToken"), "id");
                    const char *last = hf_str(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(single, ns - 1), "SpecialToken"), "id");
                    if (first) {
                        if (!cfg) content[0] = first;
                        add_bos = (content[0] && !strcmp(first, content[0])) || (content[5] && !strcmp(first, content[5]));
                    }
                    if (last) {
                        if (!cfg || !content[1]) content[1] = last;
                        add_eos = content[1] && !strcmp(last, content[1]);
                    }
                }
            }
        }
    }
    if (cfg) {
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(cfg, "add_bos_token");
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(cfg, "add_eos_token");
        if (cJSON_IsBool(b)) add_bos = cJSON_IsTrue(b);
        if (cJSON_IsBool(e)) add_eos = cJSON_IsTrue(e);
    }
    if (kind == HF_BERT && !content[2]) content[2] = hf_str(model, "unk_token");
    for (int k = 0; k < 7; k++) ids[k] = hf_added_id(added, content[k]);

    // write
    const char *model_name = kind == HF_GPT2 ? "gpt2" : kind == HF_LLAMA ? "llama" : "bert";
    const char *pre_name = pre ? pre : kind == HF_GPT2 ? hf_detect_pre(cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer")) : "default";
    w = el_gguf_writer_new(3, err);
    if (!w) goto done;
    if (el_gguf_writer_set_str(w, "general.architecture", kind == HF_BERT ? "bert" : "llama", err) ||
        el_gguf_writer_set_str(w, "general.type", "vocab", err) ||
        el_gguf_writer_set_str(w, "tokenizer.ggml.model", model_name, err) ||
        el_gguf_writer_set_str(w, "tokenizer.ggml.pre", pre_name, err) ||
        el_gguf_writer_set_str_arr(w, "tokenizer.ggml.tokens", (const char *const *)v.tok, NULL, (uint64_t)v.n, err) ||
        el_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", EL_GGUF_INT32, v.type, (uint64_t)v.n, err))
        goto done;
    if (kind == HF_LLAMA &&
        el_gguf_writer_set_arr(w, "tokenizer.ggml.scores", EL_GGUF_FLOAT32, v.score, (uint64_t)v.n, err))
        goto done;
    if (kind == HF_GPT2 &&
        el_gguf_writer_set_str_arr(w, "tokenizer.ggml.merges", (const char *const *)merges, NULL, (uint64_t)n_merges, err))
        goto done;
    for (int k = 0; k < 7; k++)
        if (ids[k] >= 0 && ids[k] < v.n && el_gguf_writer_set_u32(w, key[k], (uint32_t)ids[k], err)) goto done;
    if (add_bos >= 0 && el_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", add_bos, err)) goto done;
    if (add_eos >= 0 && el_gguf_writer_set_bool(w, "tokenizer.ggml.add_eos_token", add_eos, err)) goto done;
    const cJSON *norm = cJSON_GetObjectItemCaseSensitive(root, "normalizer");
    const char *ntype = hf_str(norm, "type");
    if (ntype && !strcmp(ntype, "Lowercase") &&
        el_gguf_writer_set_bool(w, "tokenizer.ggml.normalizer.lowercase", true, err))
        goto done;
    if (ntype && !strcmp(ntype, "BertNormalizer")) {
        bool lc = hf_bool(norm, "lowercase", true);
        if (el_gguf_writer_set_bool(w, "tokenizer.ggml.normalizer.lowercase", lc, err)) goto done;
        const cJSON *sa = cJSON_GetObjectItemCaseSensitive(norm, "strip_accents");
        if (cJSON_IsBool(sa) &&
            el_gguf_writer_set_bool(w, "tokenizer.ggml.normalizer.strip_accents", cJSON_IsTrue(sa), err))
            goto done;
    }
    const char *tmpl = cfg ? hf_str(cfg, "chat_template") : NULL;
    if (tmpl && el_gguf_writer_set_str(w, "tokenizer.chat_template", tmpl, err)) goto done;
    ok = true;
done:
    if (!ok) {
        el_gguf_writer_free(w);
        w = NULL;
    }
    if (merges)
        for (int32_t i = 0; i < n_merges; i++) free(merges[i]);
    free(merges);
    hf_vocab_free(&v);
    cJSON_Delete(root);
    cJSON_Delete(cfg);
    return w;
}

static char *hf_read_file(const char *path, size_t *len, el_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        el_errf(err, "%s: cannot open for reading", path);
        return NULL;
    }
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 65536 + 1 > cap) {
            size_t nc = cap ? cap * 2 : 1 << 20;
            char *nb = realloc(buf, nc);
            if (!nb) {
                free(buf);
                fclose(f);
                el_errf(err, "%s: out of memory reading the file", path);
                return NULL;
            }
            buf = nb;
            cap = nc;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0) break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        el_errf(err, "%s: read error", path);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

int el_tokenizer_convert_hf_pre(const char *tokenizer_json, const char *tokenizer_config_json, const char *pre,
                                const char *out_path, el_err *err)
{
    size_t jl = 0, cl = 0;
    char *j = hf_read_file(tokenizer_json, &jl, err), *c = NULL;
    if (!j) return -1;
    if (tokenizer_config_json && !(c = hf_read_file(tokenizer_config_json, &cl, err))) {
        free(j);
        return -1;
    }
    el_gguf_writer *w = el_tokenizer_hf_to_gguf(j, jl, c, cl, pre, err);
    free(j);
    free(c);
    if (!w) return el_err_prefix(err, "convert %s", tokenizer_json);
    int rc = el_gguf_writer_write(w, out_path, err);
    el_gguf_writer_free(w);
    return rc;
}

int el_tokenizer_convert_hf(const char *tokenizer_json, const char *tokenizer_config_json, const char *out_path,
                            el_err *err)
{
    return el_tokenizer_convert_hf_pre(tokenizer_json, tokenizer_config_json, NULL, out_path, err);
}
