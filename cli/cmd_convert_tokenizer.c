/* cmd_convert_tokenizer.c -- `edgelm convert-tokenizer`: a Hugging Face
 * tokenizer.json (+ tokenizer_config.json) to a vocabulary-only GGUF. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgelm/gguf.h"
#include "edgelm/tokenizer.h"

static void convert_tokenizer_usage(FILE *f)
{
    fprintf(f,
            "usage: edgelm convert-tokenizer TOKENIZER.json [--config tokenizer_config.json] -o VOCAB.gguf\n\n"
            "Write a vocabulary-only GGUF with the tokenizer.ggml.* keys llama.cpp's converter writes\n"
            "(BPE + ByteLevel -> gpt2, BPE + byte_fallback -> llama, WordPiece -> bert).\n\n"
            "  -o, --output PATH   the GGUF to write\n"
            "      --config PATH   tokenizer_config.json (special tokens, add_bos/add_eos, chat template)\n"
            "      --pre NAME      pre-tokenizer name (default: detected from the pre_tokenizer regex:\n"
            "                      llama-bpe, qwen2, qwen35, gpt-2; otherwise 'default')\n"
            "  -h, --help          this help\n");
}

int cmd_convert_tokenizer(int argc, char **argv)
{
    const char *cmd = argv[0], *in = NULL, *config = NULL, *out = NULL, *pre = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is(a, "-h", "--help")) {
            convert_tokenizer_usage(stdout);
            return 0;
        } else if (cli_is(a, "-o", "--output")) {
            if (!(out = cli_value(cmd, argc, argv, &i))) return 2;
        } else if (cli_is(a, "--config", NULL)) {
            if (!(config = cli_value(cmd, argc, argv, &i))) return 2;
        } else if (cli_is(a, "--pre", NULL)) {
            if (!(pre = cli_value(cmd, argc, argv, &i))) return 2;
        } else if (a[0] == '-' && a[1]) {
            return cli_unknown(cmd, a);
        } else if (!in) {
            in = a;
        } else {
            cli_error(cmd, "unexpected argument '%s', expected one tokenizer.json", a);
            return 2;
        }
    }
    if (!in) return cli_missing(cmd, "argument TOKENIZER.json");
    if (!out) return cli_missing(cmd, "option -o VOCAB.gguf");
    el_err err;
    if (el_tokenizer_convert_hf_pre(in, config, pre, out, &err) != 0) {
        cli_error(cmd, "%s", err.msg);
        return 1;
    }
    // read it back: the file must load as a tokenizer
    el_gguf *g = el_gguf_open(out, &err);
    el_tokenizer *t = g ? el_tokenizer_load(g, &err) : NULL;
    if (!t) {
        cli_error(cmd, "%s: written but does not load: %s", out, err.msg);
        el_gguf_close(g);
        return 1;
    }
    const el_gguf_kv *p = el_gguf_find(g, "tokenizer.ggml.pre");
    const el_gguf_kv *m = el_gguf_find(g, "tokenizer.ggml.merges");
    printf("%s: model %s, pre %.*s, %d tokens, %llu merges, bos %d, eos %d, add_bos %s\n", out,
           el_tokenizer_kind(t), p ? (int)p->v.str.len : 1, p ? p->v.str.data : "-", el_tokenizer_n_vocab(t),
           m ? (unsigned long long)m->arr_n : 0ull, el_tokenizer_bos(t), el_tokenizer_eos(t),
           el_tokenizer_adds_bos(t) ? "yes" : "no");
    el_tokenizer_free(t);
    el_gguf_close(g);
    return 0;
}
