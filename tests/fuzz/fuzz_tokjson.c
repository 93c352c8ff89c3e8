/* fuzz_tokjson.c -- the Hugging Face tokenizer.json converter on arbitrary
 * bytes. Input: tokenizer.json, optionally followed by a NUL byte and a
 * tokenizer_config.json. When the conversion succeeds the GGUF is written to
 * a private temporary file, read back, loaded as a tokenizer (which may
 * reject it with a message, e.g. duplicate tokens) and, if it loads, used to
 * tokenize and detokenize a fixed sample. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edgelm/gguf.h"
#include "edgelm/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *)data, *cfg = NULL;
    size_t json_len = size, cfg_len = 0;
    const uint8_t *nul = memchr(data, 0, size);
    if (nul) {
        json_len = (size_t)(nul - data);
        cfg = (const char *)nul + 1;
        cfg_len = size - json_len - 1;
    }
    el_err err;
    el_gguf_writer *w = el_tokenizer_hf_to_gguf(json, json_len, cfg, cfg_len, NULL, &err);
    if (!w) {
        if (!err.msg[0]) abort(); // a failure must say why
        return 0;
    }
    char path[] = "/tmp/fuzz_tokjson_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) abort();
    close(fd);
    if (el_gguf_writer_write(w, path, &err) != 0) abort();
    el_gguf_writer_free(w);
    el_gguf *g = el_gguf_open(path, &err);
    if (!g) abort(); // what the converter writes must be a valid GGUF
    el_tokenizer *t = el_tokenizer_load(g, &err);
    el_gguf_close(g);
    unlink(path);
    if (!t) return 0;
    static const char sample[] = "Hello world! <|im_start|> caf\xc3\xa9 12345 \xe4\xb8\xad\xe6\x96\x87\n\t  x";
    int32_t ids[256];
    int64_t n = el_tokenize(t, sample, sizeof sample - 1, true, true, ids, 256, &err);
    if (n < 0) abort();
    if (n > 256) n = 256;
    char *back = el_detokenize(t, ids, (size_t)n, true, &err);
    if (!back) abort();
    free(back);
    el_tokenizer_free(t);
    return 0;
}
