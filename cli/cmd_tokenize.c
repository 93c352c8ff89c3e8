/* cmd_tokenize.c -- `edgelm tokenize`: text to tokens with a model's (or a
 * vocabulary-only GGUF's) tokenizer, printed like llama-tokenize. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgelm/gguf.h"
#include "edgelm/tokenizer.h"

static void tokenize_usage(FILE *f)
{
    fprintf(f,
            "usage: edgelm tokenize -m MODEL (-p TEXT | -f FILE) [options]\n\n"
            "Tokenize text with the vocabulary stored in a GGUF (tokenizer.ggml.*).\n\n"
            "  -m, --model PATH        GGUF model or vocabulary file\n"
            "  -p, --prompt TEXT       text to tokenize\n"
            "  -f, --file PATH         read the text from a file (used as is)\n"
            "      --ids               print only the ids, as [1, 2, 3]\n"
            "      --no-bos            do not add BOS/EOS even if the vocabulary asks for them\n"
            "      --no-parse-special  treat texts like <|im_start|> as plain text\n"
            "      --show-count        print the number of tokens at the end\n"
            "  -h, --help              this help\n");
}

static char *tokenize_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 65536 + 1 > cap) {
            size_t nc = cap ? cap * 2 : 1 << 16;
            char *nb = realloc(buf, nc);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
            cap = nc;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

int cmd_tokenize(int argc, char **argv)
{
    const char *cmd = argv[0], *model = NULL, *prompt = NULL, *file = NULL;
    bool ids_only = false, no_bos = false, parse_special = true, show_count = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is(a, "-h", "--help")) {
            tokenize_usage(stdout);
            return 0;
        } else if (cli_is(a, "-m", "--model")) {
            if (!(model = cli_value(cmd, argc, argv, &i))) return 2;
        } else if (cli_is(a, "-p", "--prompt")) {
            if (!(prompt = cli_value(cmd, argc, argv, &i))) return 2;
        } else if (cli_is(a, "-f", "--file")) {
            if (!(file = cli_value(cmd, argc, argv, &i))) return 2;
        } else if (cli_is(a, "--ids", NULL)) {
            ids_only = true;
        } else if (cli_is(a, "--no-bos", NULL)) {
            no_bos = true;
        } else if (cli_is(a, "--no-parse-special", NULL)) {
            parse_special = false;
        } else if (cli_is(a, "--show-count", NULL)) {
            show_count = true;
        } else {
            return cli_unknown(cmd, a);
        }
    }
    if (!model) return cli_missing(cmd, "option -m MODEL");
    if (!prompt && !file) return cli_missing(cmd, "option -p TEXT or -f FILE");
    if (prompt && file) {
        cli_error(cmd, "options -p and -f exclude each other, expected only one of them");
        return 2;
    }

    size_t len = 0;
    char *text = NULL;
    if (file) {
        text = tokenize_read_file(file, &len);
        if (!text) {
            cli_error(cmd, "%s: cannot read the file", file);
            return 1;
        }
    }
    el_err err;
    el_gguf *g = el_gguf_open(model, &err);
    if (!g) {
        cli_error(cmd, "%s", err.msg);
        free(text);
        return 1;
    }
    el_tokenizer *t = el_tokenizer_load(g, &err);
    el_gguf_close(g);
    if (!t) {
        cli_error(cmd, "%s", err.msg);
        free(text);
        return 1;
    }
    const char *src = text ? text : prompt;
    if (!text) len = strlen(prompt);
    int rc = 1;
    int32_t *ids = NULL;
    char *piece = NULL;
    int64_t n = el_tokenize(t, src, len, !no_bos, parse_special, NULL, 0, &err);
    if (n < 0) {
        cli_error(cmd, "%s", err.msg);
        goto done;
    }
    ids = malloc((size_t)(n ? n : 1) * sizeof *ids);
    if (!ids || el_tokenize(t, src, len, !no_bos, parse_special, ids, n, &err) != n) {
        cli_error(cmd, "out of memory for %lld tokens", (long long)n);
        goto done;
    }
    if (ids_only) {
        putchar('[');
        for (int64_t i = 0; i < n; i++) printf(i ? ", %d" : "%d", ids[i]);
        printf("]\n");
    } else {
        size_t cap = 256;
        piece = malloc(cap);
        if (!piece) goto done;
        for (int64_t i = 0; i < n; i++) {
            int k = el_token_to_piece(t, ids[i], true, piece, cap);
            if ((size_t)k > cap) {
                char *np = realloc(piece, (size_t)k);
                if (!np) goto done;
                piece = np;
                cap = (size_t)k;
                k = el_token_to_piece(t, ids[i], true, piece, cap);
            }
            printf("%6d -> '%.*s'\n", ids[i], k, piece);
        }
    }
    if (show_count) printf("Total number of tokens: %lld\n", (long long)n);
    rc = 0;
done:
    free(piece);
    free(ids);
    free(text);
    el_tokenizer_free(t);
    return rc;
}
