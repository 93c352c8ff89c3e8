/* cmd_quantize.c -- `edgelm quantize IN OUT TYPE`: llama.cpp's mixes. */
#include "cli.h"

#include <stdio.h>

#include "edgelm/tools.h"

static void quantize_usage(FILE *f)
{
    fprintf(f,
            "usage: edgelm quantize [-t THREADS] [-q] IN.gguf OUT.gguf TYPE\n\n"
            "Re-encode every tensor into TYPE with the per-tensor mix llama.cpp uses, in ggml's\n"
            "block layouts (the output loads in llama.cpp too). Rows are dequantised to f32 and\n"
            "quantised with the reference quantiser. OUT is written to a temporary file and\n"
            "renamed, so an interrupted run never leaves a truncated OUT.\n\n"
            "  TYPE           q8_0, q4_0, q4_1, q5_0, q5_1, q4_k_m (Q4_K + Q6_K), q5_k_m, q6_k, f16, bf16, f32\n"
            "  -t, --threads  threads (default %d)\n"
            "  -q, --quiet    no per-tensor progress\n",
            cli_default_threads());
}

int cmd_quantize(int argc, char **argv)
{
    const char *cmd = "quantize", *pos[3] = {0};
    int npos = 0;
    long long threads = cli_default_threads();
    bool quiet = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (cli_is(a, "-h", "--help")) {
            quantize_usage(stdout);
            return 0;
        } else if (cli_is(a, "-t", "--threads")) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || cli_int(cmd, a, v, 1, 1024, &threads)) return 2;
        } else if (cli_is(a, "-q", "--quiet")) {
            quiet = true;
        } else if (a[0] == '-' && a[1]) {
            return cli_unknown(cmd, a);
        } else if (npos < 3) {
            pos[npos++] = a;
        } else {
            cli_error(cmd, "unexpected argument '%s' (expected IN OUT TYPE)", a);
            return 2;
        }
    }
    if (npos < 3) return cli_missing(cmd, npos == 0 ? "IN.gguf OUT.gguf TYPE" : npos == 1 ? "OUT.gguf TYPE" : "TYPE");
    int ft = el_ftype_from_name(pos[2]);
    if (ft < 0) {
        cli_error(cmd, "unknown type '%s' (expected q8_0, q4_0, q4_1, q5_0, q5_1, q4_k_m, q5_k_m, q6_k, f16, bf16 or f32)", pos[2]);
        return 2;
    }
    el_err err;
    el_cleanup_on_signals();
    el_threads *tp = el_threads_new((int)threads, &err);
    if (!tp || el_quantize_file(pos[0], pos[1], (el_ftype)ft, tp, quiet, &err)) {
        cli_error(cmd, "%s", err.msg);
        el_threads_free(tp);
        return 1;
    }
    el_threads_free(tp);
    return 0;
}
