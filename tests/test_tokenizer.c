/* test_tokenizer.c -- the tokenizers against llama.cpp's outputs:
 *   - every ggml-vocab-NAME.gguf.inp/.out pair of llama.cpp's test suite
 *     (add_special = false, parse_special = false, as test-tokenizer-0);
 *   - the llama-bpe and qwen2 pairs with vocabularies converted from the
 *     Hugging Face tokenizer.json of Llama 3 and Qwen 3 by convert-tokenizer;
 *   - the prompts of the reference models (BOS and special tokens) and the
 *     pieces of their greedy tokens;
 *   - llama.cpp's round trips (test-tokenizer-1-bpe/-spm): every token and
 *     every code point survives detokenize(tokenize(x));
 *   - speed (1 MB of text), CLI usage errors, bad inputs. */
#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgelm/gguf.h"
#include "edgelm/tokenizer.h"
#include "text/tok_internal.h" /* the SPM chunking switch, for the equivalence check */

#define VOCAB_DIR "data/tokenizer/llama.cpp-vocab"
#define HF_DIR "data/tokenizer/hf-tokenizer-json"

static el_tokenizer *load_tok(const char *path)
{
    el_err err;
    el_gguf *g = el_gguf_open(path, &err);
    if (!g) {
        print_error("%s\n", err.msg);
        return NULL;
    }
    el_tokenizer *t = el_tokenizer_load(g, &err);
    if (!t) print_error("%s: %s\n", path, err.msg);
    el_gguf_close(g);
    return t;
}

static el_tokenizer *load_shared_tok(const char *rel)
{
    char *p = tu_shared(rel);
    el_tokenizer *t = load_tok(p);
    free(p);
    return t;
}

/* tokenize into a malloc'd array */
static int32_t *tokenize_all(const el_tokenizer *t, const char *s, size_t len, bool add_special,
                             bool parse_special, size_t *n)
{
    el_err err;
    int64_t k = el_tokenize(t, s, len, add_special, parse_special, NULL, 0, &err);
    assert_true(k >= 0);
    int32_t *ids = malloc((size_t)(k ? k : 1) * sizeof *ids);
    assert_non_null(ids);
    assert_int_equal(el_tokenize(t, s, len, add_special, parse_special, ids, k, &err), k);
    *n = (size_t)k;
    return ids;
}

static bool ids_equal(const int32_t *a, size_t na, const int32_t *b, size_t nb)
{
    return na == nb && (na == 0 || memcmp(a, b, na * sizeof *a) == 0);
}

static void print_ids(const char *what, const int32_t *ids, size_t n)
{
    fprintf(stderr, "    %s:", what);
    for (size_t i = 0; i < n && i < 64; i++) fprintf(stderr, " %d", ids[i]);
    fprintf(stderr, "%s\n", n > 64 ? " ..." : "");
}

/* Run one .inp/.out pair (llama.cpp's format: inputs separated by
 * "\n__ggml_vocab_test__\n", one output line of ids per input). */
static void run_vectors(const el_tokenizer *t, const char *inp_path, const char *out_path, const char *name,
                        int *pass, int *total)
{
    size_t ni, no;
    char *inp = tu_read_file(inp_path, &ni), *out = tu_read_file(out_path, &no);
    assert_non_null(inp);
    assert_non_null(out);
    const char *sep = "\n__ggml_vocab_test__\n";
    char *ip = inp, *op = out;
    int p = 0, n = 0;
    for (;;) {
        char *nx = strstr(ip, sep);
        size_t len = nx ? (size_t)(nx - ip) : strlen(ip);
        char *line = op, *eol = strchr(op, '\n');
        if (eol) *eol = 0; // one output line per input (the last one may lack its newline)
        op = eol ? eol + 1 : op + strlen(op);
        int32_t *exp;
        size_t ne = tu_parse_ints(line, &exp), ng;
        int32_t *got = tokenize_all(t, ip, len, false, false, &ng);
        bool ok = ids_equal(got, ng, exp, ne);
        if (!ok) {
            fprintf(stderr, "  %s: FAIL on '%.*s'\n", name, (int)len, ip);
            print_ids("got", got, ng);
            print_ids("expected", exp, ne);
        }
        p += ok;
        n++;
        free(got);
        free(exp);
        if (!nx) break;
        ip = nx + strlen(sep);
    }
    assert_true(*op == 0); // no extra output lines
    printf("  %s: %d/%d\n", name, p, n);
    *pass += p;
    *total += n;
    free(inp);
    free(out);
}

static void test_vocab_vectors(void **state)
{
    (void)state;
    char *dir = tu_shared(VOCAB_DIR);
    DIR *d = opendir(dir);
    assert_non_null(d);
    char *names[64];
    int n_names = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n_names < 64) {
        size_t l = strlen(e->d_name);
        if (l > 9 && strcmp(e->d_name + l - 9, ".gguf.inp") == 0) names[n_names++] = strndup(e->d_name, l - 4);
    }
    closedir(d);
    int pass = 0, total = 0, sets = 0;
    for (int i = 0; i < n_names; i++) {
        char *g = tu_fmt("%s/%s", dir, names[i]), *inp = tu_fmt("%s.inp", g), *out = tu_fmt("%s.out", g);
        if (!tu_file_exists(g)) {
            printf("  %s: skipped (no vocabulary GGUF)\n", names[i]);
        } else {
            el_tokenizer *t = load_tok(g);
            assert_non_null(t);
            run_vectors(t, inp, out, names[i], &pass, &total);
            el_tokenizer_free(t);
            sets++;
        }
        free(g);
        free(inp);
        free(out);
        free(names[i]);
    }
    printf("llama.cpp vocab vectors: %d/%d passed in %d vocabularies\n", pass, total, sets);
    assert_true(sets >= 10);
    assert_int_equal(pass, total);
    free(dir);
}

/* tu_shared of a tu_fmt'd path (the format string result is freed) */
static char *shared_fmt_take(char *rel)
{
    char *p = tu_shared(rel);
    free(rel);
    return p;
}

/* convert tokenizer.json via the CLI, then run llama.cpp's vectors */
static void check_converted(const char *hf, const char *vectors, const char *expect_pre, const char *outname)
{
    char *json = shared_fmt_take(tu_fmt("%s/%s/tokenizer.json", HF_DIR, hf));
    char *cfg = shared_fmt_take(tu_fmt("%s/%s/tokenizer_config.json", HF_DIR, hf));
    char *out = tu_tmp(outname);
    char *cmd = tu_fmt("'%s' convert-tokenizer '%s' --config '%s' -o '%s'", EL_BIN, json, cfg, out);
    char *so = NULL, *se = NULL;
    int rc = tu_run(cmd, &so, &se);
    printf("  %s", so ? so : "");
    if (rc != 0) fprintf(stderr, "%s\n", se ? se : "");
    assert_int_equal(rc, 0);
    el_gguf *g;
    el_err err;
    assert_non_null(g = el_gguf_open(out, &err));
    char *pre = NULL;
    assert_int_equal(el_gguf_get_str(g, "tokenizer.ggml.pre", &pre, &err), 0);
    assert_string_equal(pre, expect_pre);
    free(pre);
    el_gguf_close(g);
    el_tokenizer *t = load_tok(out);
    assert_non_null(t);
    char *v = shared_fmt_take(tu_fmt("%s/ggml-vocab-%s.gguf", VOCAB_DIR, vectors));
    char *inp = tu_fmt("%s.inp", v), *outp = tu_fmt("%s.out", v);
    char *label = tu_fmt("%s (converted from %s/tokenizer.json)", vectors, hf);
    int pass = 0, total = 0;
    run_vectors(t, inp, outp, label, &pass, &total);
    free(label);
    assert_int_equal(pass, total);
    el_tokenizer_free(t);
    free(json), free(cfg), free(out), free(cmd), free(so), free(se), free(v), free(inp), free(outp);
}

static void test_converted_vectors(void **state)
{
    (void)state;
    check_converted("llama3", "llama-bpe", "llama-bpe", "tok-llama3.gguf");
    check_converted("qwen3", "qwen2", "qwen2", "tok-qwen3.gguf");
}

/* text file content without its final newline (rel is freed) */
static char *read_prompt(char *rel, size_t *len)
{
    char *p = shared_fmt_take(rel);
    char *s = tu_read_file(p, len);
    free(p);
    assert_non_null(s);
    if (*len && s[*len - 1] == '\n') s[--*len] = 0;
    return s;
}

static char *pieces(const el_tokenizer *t, const int32_t *ids, size_t n, size_t *len)
{
    size_t cap = 1024, o = 0;
    char *s = malloc(cap);
    for (size_t i = 0; i < n; i++) {
        char buf[512];
        int k = el_token_to_piece(t, ids[i], true, buf, sizeof buf);
        assert_true(k >= 0 && (size_t)k <= sizeof buf);
        if (o + (size_t)k + 1 > cap) s = realloc(s, cap = (o + (size_t)k + 1) * 2);
        memcpy(s + o, buf, (size_t)k);
        o += (size_t)k;
    }
    s[o] = 0;
    *len = o;
    return s;
}

static void check_reference_model(const char *dir, const char *model_rel, int n_prompts)
{
    el_tokenizer *t = load_shared_tok(model_rel);
    assert_non_null(t);
    for (int i = 1; i <= n_prompts; i++) {
        size_t len, ng, ne;
        char *prompt = read_prompt(tu_fmt("reference/%s/p%d.prompt.txt", dir, i), &len);
        char *exp_s = read_prompt(tu_fmt("reference/%s/p%d.prompt_tokens.txt", dir, i), &ne);
        int32_t *exp;
        ne = tu_parse_ints(exp_s, &exp);
        int32_t *got = tokenize_all(t, prompt, len, true, true, &ng);
        bool ok = ids_equal(got, ng, exp, ne);
        printf("  %s p%d: prompt %zu tokens %s\n", dir, i, ne, ok ? "identical" : "DIFFER");
        if (!ok) print_ids("got", got, ng), print_ids("expected", exp, ne);
        assert_true(ok);
        free(prompt), free(exp_s), free(exp), free(got);

        // greedy tokens -> their pieces concatenated (special tokens rendered)
        char *gp = shared_fmt_take(tu_fmt("reference/%s/p%d.greedy_tokens.txt", dir, i));
        char *gt = shared_fmt_take(tu_fmt("reference/%s/p%d.greedy_text.txt", dir, i));
        size_t l1, l2;
        char *gs = tu_read_file(gp, &l1), *text = tu_read_file(gt, &l2);
        if (gs && text) {
            int32_t *g;
            size_t n = tu_parse_ints(gs, &g), lp;
            char *s = pieces(t, g, n, &lp);
            bool same = lp == l2 && memcmp(s, text, lp) == 0;
            printf("  %s p%d: greedy text of %zu tokens, %zu bytes %s\n", dir, i, n, lp, same ? "identical" : "DIFFER");
            if (!same) fprintf(stderr, "    got '%s'\n    expected '%s'\n", s, text);
            assert_true(same);
            free(g), free(s);
        }
        free(gs), free(text), free(gp), free(gt);
    }
    el_tokenizer_free(t);
}

static void test_reference_prompts(void **state)
{
    (void)state;
    check_reference_model("stories260K", "data/models/stories260K.gguf", 5);
    check_reference_model("tiny-llama3", "reference/tiny-llama3/tiny-llama3.gguf", 3);
    check_reference_model("tiny-qwen2", "reference/tiny-qwen2/tiny-qwen2.gguf", 3);

    // tiny-bert: one sentence per line, [CLS] ... [SEP]
    el_tokenizer *t = load_shared_tok("reference/tiny-bert/tiny-bert.gguf");
    assert_non_null(t);
    size_t ls, lt;
    char *sent = read_prompt(strdup("reference/tiny-bert/sentences.txt"), &ls);
    char *toks = read_prompt(strdup("reference/tiny-bert/sentences.tokens.txt"), &lt);
    char *sp = sent, *tp = toks;
    int ok_n = 0, n = 0;
    while (sp && tp) {
        char *se = strchr(sp, '\n'), *te = strchr(tp, '\n');
        if (se) *se = 0;
        if (te) *te = 0;
        int32_t *exp, *got;
        size_t ne = tu_parse_ints(tp, &exp), ng;
        got = tokenize_all(t, sp, strlen(sp), true, true, &ng);
        bool ok = ids_equal(got, ng, exp, ne);
        if (!ok) fprintf(stderr, "  tiny-bert: FAIL on '%s'\n", sp), print_ids("got", got, ng), print_ids("expected", exp, ne);
        ok_n += ok;
        n++;
        free(exp), free(got);
        sp = se ? se + 1 : NULL;
        tp = te ? te + 1 : NULL;
    }
    printf("  tiny-bert: %d/%d sentences identical\n", ok_n, n);
    assert_int_equal(n, 8);
    assert_int_equal(ok_n, n);
    assert_int_equal(el_tokenizer_bos(t), 101);
    assert_true(el_tokenizer_adds_bos(t));
    free(sent), free(toks);
    el_tokenizer_free(t);
}

/* Valid UTF-8 as llama.cpp decodes it (no byte would become U+FFFD). */
static bool utf8_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint8_t c = (uint8_t)s[i];
        size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!k || i + k > n) return false;
        for (size_t j = 1; j < k; j++)
            if (((uint8_t)s[i + j] & 0xc0) != 0x80) return false;
        i += k;
    }
    return true;
}

static size_t put_utf8(uint32_t c, char *o)
{
    if (c < 0x80) return o[0] = (char)c, 1;
    if (c < 0x800) return o[0] = (char)(0xc0 | (c >> 6)), o[1] = (char)(0x80 | (c & 0x3f)), 2;
    if (c < 0x10000)
        return o[0] = (char)(0xe0 | (c >> 12)), o[1] = (char)(0x80 | ((c >> 6) & 0x3f)), o[2] = (char)(0x80 | (c & 0x3f)), 3;
    o[0] = (char)(0xf0 | (c >> 18)), o[1] = (char)(0x80 | ((c >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3f)), o[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

/* llama.cpp's test-tokenizer-1-{bpe,spm}: vocab and code point round trips */
static void roundtrip(const char *name, bool vocab_trip)
{
    char *rel = tu_fmt("%s/ggml-vocab-%s.gguf", VOCAB_DIR, name);
    el_tokenizer *t = load_shared_tok(rel);
    free(rel);
    assert_non_null(t);
    el_err err;
    int bad = 0, tried = 0;
    if (vocab_trip) {
        for (int32_t i = 0; i < el_tokenizer_n_vocab(t); i++) {
            char *str = el_detokenize(t, &i, 1, true, &err);
            assert_non_null(str);
            size_t len = strlen(str), n;
            if (utf8_ok(str, len)) {
                int32_t *ids = tokenize_all(t, str, len, false, true, &n);
                char *check = el_detokenize(t, ids, n, true, &err);
                if (strcmp(check, str) != 0) {
                    if (bad < 5) fprintf(stderr, "  %s: token %d '%s' comes back as '%s'\n", name, i, str, check);
                    bad++;
                }
                tried++;
                free(ids);
                free(check);
            }
            free(str);
        }
        printf("  %s: vocabulary round trip %d/%d tokens\n", name, tried - bad, tried);
        assert_int_equal(bad, 0);
    }
    bad = tried = 0;
#ifdef EL_SANITIZE
    const uint32_t step = 7; // sanitizer builds: every 7th code point (keeps the test under a minute)
#else
    const uint32_t step = 1;
#endif
    for (uint32_t cp = 1; cp < 0x110000; cp += step) {
        if ((cp >= 0xD800 && cp <= 0xDFFF) || (cp >= 0x40000 && cp <= 0xE0000)) continue;
        char s[4];
        size_t len = put_utf8(cp, s), n;
        int32_t *ids = tokenize_all(t, s, len, false, false, &n);
        char *check = el_detokenize(t, ids, n, true, &err);
        if (cp != 0x2581 && (strlen(check) != len || memcmp(check, s, len) != 0)) {
            if (bad < 5) fprintf(stderr, "  %s: code point U+%04X comes back as '%s'\n", name, cp, check);
            bad++;
        }
        tried++;
        free(ids);
        free(check);
    }
    printf("  %s: code point round trip %d/%d\n", name, tried - bad, tried);
    assert_int_equal(bad, 0);
    el_tokenizer_free(t);
}

static void test_roundtrip(void **state)
{
    (void)state;
    // the vocabularies llama.cpp runs these on (falcon is not one: its vocabulary
    // has no tokens for some control bytes, e.g. U+0003)
    roundtrip("llama-spm", false);
    roundtrip("phi-3", false);
    roundtrip("gpt-2", true);
    roundtrip("mpt", true);
    roundtrip("deepseek-llm", false);
}

static void test_detokenize_rules(void **state)
{
    (void)state;
    el_err err;
    // SPM: BOS, the leading space of the first piece is removed
    el_tokenizer *t = load_shared_tok(VOCAB_DIR "/ggml-vocab-llama-spm.gguf");
    assert_non_null(t);
    const char *s = "Hello world, it's <s>me";
    size_t n;
    int32_t *ids = tokenize_all(t, s, strlen(s), true, false, &n);
    assert_int_equal(ids[0], 1);
    char *back = el_detokenize(t, ids + 1, n - 1, false, &err);
    printf("  llama-spm: '%s' -> %zu tokens -> '%s'\n", s, n, back);
    assert_string_equal(back, s);
    free(back);
    free(ids);
    // parse_special: "<s>" becomes BOS; rendered only with render_special
    ids = tokenize_all(t, "<s>", 3, false, true, &n);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], 1);
    char piece[16];
    assert_int_equal(el_token_to_piece(t, 1, false, piece, sizeof piece), 0);
    assert_int_equal(el_token_to_piece(t, 1, true, piece, sizeof piece), 3);
    assert_int_equal(el_token_to_piece(t, 1, true, piece, 2), 3); // needed length
    assert_int_equal(el_token_to_piece(t, -1, true, piece, sizeof piece), 0);
    assert_true(el_tokenizer_is_eog(t, 2));
    assert_string_equal(el_tokenizer_kind(t), "llama");
    free(ids);
    el_tokenizer_free(t);

    // BPE: clean-up of spaces before punctuation (gpt-2 has clean_spaces)
    t = load_shared_tok(VOCAB_DIR "/ggml-vocab-gpt-2.gguf");
    assert_non_null(t);
    ids = tokenize_all(t, "Hello , world !", 15, false, false, &n);
    back = el_detokenize(t, ids, n, false, &err);
    printf("  gpt-2: 'Hello , world !' -> '%s'\n", back);
    assert_string_equal(back, "Hello, world!");
    assert_string_equal(el_tokenizer_kind(t), "gpt2");
    assert_true(el_tokenizer_is_eog(t, 50256));
    free(back);
    free(ids);
    el_tokenizer_free(t);
}

static double tokenize_speed(const char *rel, const char *text, size_t len, const char *name)
{
    el_tokenizer *t = strncmp(rel, "/", 1) == 0 ? load_tok(rel) : load_shared_tok(rel);
    assert_non_null(t);
    el_err err;
    double t0 = el_now();
    int64_t n = el_tokenize(t, text, len, true, true, NULL, 0, &err);
    double dt = el_now() - t0;
    assert_true(n > 0);
    printf("  %s: %zu bytes -> %lld tokens in %.3f s (%.1f MB/s)\n", name, len, (long long)n, dt, len / dt / 1e6);
    el_tokenizer_free(t);
    return dt;
}

static void test_speed(void **state)
{
    (void)state;
    char *p = tu_shared("data/text/wikitext-2-raw-wiki.test.lf.txt");
    size_t len;
    char *text = tu_read_file(p, &len);
    assert_non_null(text);
    if (len > 1000000) len = 1000000;
    while (len && ((uint8_t)text[len] & 0xc0) == 0x80) len--; // whole characters
#ifdef EL_SANITIZE
    const double limit = 30.0;
#else
    const double limit = 1.0;
#endif
    double worst = 0, dt;
    char *l3 = tu_tmp("tok-speed-llama3.gguf");
    char *json = tu_shared(HF_DIR "/llama3/tokenizer.json");
    el_err err;
    assert_int_equal(el_tokenizer_convert_hf(json, NULL, l3, &err), 0);
    if ((dt = tokenize_speed(l3, text, len, "llama3 (bpe, 256 specials)")) > worst) worst = dt;
    if ((dt = tokenize_speed(VOCAB_DIR "/ggml-vocab-llama-spm.gguf", text, len, "llama-spm")) > worst) worst = dt;
    if ((dt = tokenize_speed(VOCAB_DIR "/ggml-vocab-bert-bge.gguf", text, len, "bert-bge (wpm)")) > worst) worst = dt;
    if ((dt = tokenize_speed(VOCAB_DIR "/ggml-vocab-deepseek-llm.gguf", text, len, "deepseek-llm (6 regexes)")) > worst) worst = dt;
    printf("  slowest: %.3f s for 1 MB (limit %.0f s)\n", worst, limit);

    // SentencePiece: the text is cut where no token contains the two adjacent
    // characters; check that against llama.cpp's whole-text algorithm
    el_tokenizer *t = load_shared_tok(VOCAB_DIR "/ggml-vocab-llama-spm.gguf");
    assert_non_null(t);
    size_t n1, n2;
    int32_t *a = tokenize_all(t, text, len, true, false, &n1);
    t->spm_chunked = false;
    double t0 = el_now();
    int32_t *b = tokenize_all(t, text, len, true, false, &n2);
    printf("  llama-spm chunked vs whole-text merging: %zu vs %zu tokens, %s (whole text: %.2f s)\n", n1, n2,
           ids_equal(a, n1, b, n2) ? "identical" : "DIFFERENT", el_now() - t0);
    assert_true(ids_equal(a, n1, b, n2));
    free(a), free(b);
    el_tokenizer_free(t);
    assert_true(worst < limit);
    free(l3), free(json), free(text), free(p);
}

static void test_cli(void **state)
{
    (void)state;
    char *model = tu_shared("reference/tiny-llama3/tiny-llama3.gguf");
    char *so = NULL, *se = NULL;
    char *cmd = tu_fmt("'%s' tokenize -m '%s' -p 'The quick brown fox jumps over the lazy dog.' --ids", EL_BIN, model);
    assert_int_equal(tu_run(cmd, &so, &se), 0);
    printf("  tokenize --ids: %s", so);
    assert_string_equal(so, "[556, 51, 257, 220, 468, 296, 74, 276, 285, 86, 77, 274, 78, 87, 220, 73, 428, 79, 82, "
                            "269, 373, 259, 302, 64, 89, 88, 294, 78, 70, 13]\n");
    free(cmd), free(so), free(se);
    cmd = tu_fmt("'%s' tokenize -m '%s' -p '<|eot_id|>x' --no-bos", EL_BIN, model);
    assert_int_equal(tu_run(cmd, &so, &se), 0);
    printf("  tokenize (pieces):\n%s", so);
    assert_non_null(strstr(so, "   565 -> '<|eot_id|>'\n"));
    free(cmd), free(so), free(se);
    cmd = tu_fmt("'%s' tokenize -m '%s' -p '<|eot_id|>' --no-bos --no-parse-special --ids", EL_BIN, model);
    assert_int_equal(tu_run(cmd, &so, &se), 0);
    assert_null(strstr(so, "565"));
    free(cmd), free(so), free(se);

    struct { const char *args; int rc; const char *msg; } cases[] = {
        {"tokenize --help", 0, NULL},
        {"convert-tokenizer --help", 0, NULL},
        {"tokenize -p x", 2, "missing required option -m"},
        {"tokenize -m x.gguf", 2, "missing required option -p"},
        {"tokenize -m x.gguf -p a --bogus", 2, "unknown option '--bogus'"},
        {"tokenize -m /nonexistent.gguf -p a", 1, "edgelm tokenize: "},
        {"convert-tokenizer", 2, "missing required argument"},
        {"convert-tokenizer a.json", 2, "missing required option -o"},
        {"convert-tokenizer /nonexistent.json -o /tmp/x.gguf", 1, "/nonexistent.json"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cmd = tu_fmt("'%s' %s", EL_BIN, cases[i].args);
        int rc = tu_run(cmd, &so, &se);
        printf("  edgelm %s -> exit %d %s", cases[i].args, rc, se && *se ? se : "\n");
        assert_int_equal(rc, cases[i].rc);
        if (cases[i].msg) assert_non_null(strstr(se, cases[i].msg));
        else assert_non_null(strstr(so, "usage:"));
        free(cmd), free(so), free(se);
    }
    free(model);
}

static void test_bad_inputs(void **state)
{
    (void)state;
    el_err err;
    // a GGUF without tokenizer keys
    el_gguf_writer *w = el_gguf_writer_new(3, &err);
    assert_non_null(w);
    assert_int_equal(el_gguf_writer_set_str(w, "general.architecture", "llama", &err), 0);
    char *p = tu_tmp("tok-nokeys.gguf");
    assert_int_equal(el_gguf_writer_write(w, p, &err), 0);
    el_gguf_writer_free(w);
    el_gguf *g = el_gguf_open(p, &err);
    assert_non_null(g);
    assert_null(el_tokenizer_load(g, &err));
    printf("  no tokenizer keys: %s\n", err.msg);
    assert_non_null(strstr(err.msg, "tokenizer.ggml.model"));
    el_gguf_close(g);
    // an unknown model type
    w = el_gguf_writer_new(3, &err);
    const char *toks[] = {"a", "b"};
    assert_int_equal(el_gguf_writer_set_str(w, "tokenizer.ggml.model", "t5", &err), 0);
    assert_int_equal(el_gguf_writer_set_str_arr(w, "tokenizer.ggml.tokens", toks, NULL, 2, &err), 0);
    assert_int_equal(el_gguf_writer_write(w, p, &err), 0);
    el_gguf_writer_free(w);
    g = el_gguf_open(p, &err);
    assert_null(el_tokenizer_load(g, &err));
    printf("  model t5: %s\n", err.msg);
    assert_non_null(strstr(err.msg, "'t5'"));
    el_gguf_close(g);
    free(p);
    // converter: not JSON, wrong model type
    assert_null(el_tokenizer_hf_to_gguf("{", 1, NULL, 0, NULL, &err));
    printf("  bad json: %s\n", err.msg);
    const char *uni = "{\"model\":{\"type\":\"Unigram\",\"vocab\":[]}}";
    assert_null(el_tokenizer_hf_to_gguf(uni, strlen(uni), NULL, 0, NULL, &err));
    printf("  unigram: %s\n", err.msg);
    assert_non_null(strstr(err.msg, "model.type"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vocab_vectors),
        cmocka_unit_test(test_converted_vectors),
        cmocka_unit_test(test_reference_prompts),
        cmocka_unit_test(test_detokenize_rules),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_speed),
        cmocka_unit_test(test_cli),
        cmocka_unit_test(test_bad_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
