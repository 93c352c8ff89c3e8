/* cmd_synth.c -- `edgelm synth`: a GGUF with a real model's exact layout and
 * seeded random weights, for loading and speed work. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

#include "edgelm/tools.h"

static void synth_usage(FILE *f)
{
    fprintf(f,
            "usage: edgelm synth --like NAME [--type TYPE] [--layers N] [--seed S] [--vocab VOCAB.gguf]\n"
            "                    [-t THREADS] -o FILE\n\n"
            "Write a GGUF with exactly the tensor names, shapes, types and metadata keys that\n"
            "llama.cpp's converter and quantiser produce for NAME, filled with seeded random\n"
            "weights. The file is marked edgelm.synthetic = true and every command says so:\n"
            "it is for loading and speed work, its text is noise.\n\n"
            "  --like NAME     one of:");
    for (const char *const *n = el_synth_models(); *n; n++) fprintf(f, " %s", *n);
    fprintf(f,
            "\n  --type TYPE     f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k_m, q5_k_m, q6_k (default f16)\n"
            "  --layers N      keep only the first N blocks (default: all)\n"
            "  --seed S        random seed (default 42); same seed, same file\n"
            "  --vocab FILE    copy tokenizer.* from a vocabulary GGUF (e.g. from convert-tokenizer)\n"
            "                  instead of a synthetic byte-level BPE vocabulary of the right size\n"
            "  -t, --threads N threads (default %d)\n"
            "  -o, --output F  output file (written to a temporary file, then renamed)\n",
            cli_default_threads());
}

int cmd_synth(int argc, char **argv)
{
    const char *cmd = "synth", *out = NULL;
    el_synth_opts o = {.ftype = EL_FTYPE_F16, .seed = 42};
    long long layers = 0, seed = 42, threads = cli_default_threads();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (cli_is(a, "-h", "--help")) {
            synth_usage(stdout);
            return 0;
        } else if (cli_is(a, "--like", NULL)) {
            if (!(o.like = cli_value(cmd, argc, argv, &i))) return 2;
        } else if (cli_is(a, "--type", NULL)) {
            if (!(v = cli_value(cmd, argc, argv, &i))) return 2;
            int ft = el_ftype_from_name(v);
            if (ft < 0) {
                cli_error(cmd, "--type: unknown type '%s' (expected f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k_m, q5_k_m or q6_k)", v);
                return 2;
            }
            o.ftype = (el_ftype)ft;
        } else if (cli_is(a, "--layers", NULL)) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || cli_int(cmd, a, v, 1, 1000, &layers)) return 2;
        } else if (cli_is(a, "--seed", NULL)) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || cli_int(cmd, a, v, 0, (long long)1 << 62, &seed)) return 2;
        } else if (cli_is(a, "--vocab", NULL)) {
            if (!(o.vocab_path = cli_value(cmd, argc, argv, &i))) return 2;
        } else if (cli_is(a, "-t", "--threads")) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || cli_int(cmd, a, v, 1, 1024, &threads)) return 2;
        } else if (cli_is(a, "-o", "--output")) {
            if (!(out = cli_value(cmd, argc, argv, &i))) return 2;
        } else {
            return cli_unknown(cmd, a);
        }
    }
    if (!o.like) return cli_missing(cmd, "--like NAME");
    if (!out) return cli_missing(cmd, "-o FILE");
    o.layers = (int)layers;
    o.seed = (uint64_t)seed;
    el_err err;
    el_cleanup_on_signals();
    el_threads *tp = el_threads_new((int)threads, &err);
    if (!tp || el_synth_write(&o, out, tp, &err)) {
        cli_error(cmd, "%s", err.msg);
        el_threads_free(tp);
        return 1;
    }
    el_threads_free(tp);
    return 0;
}
