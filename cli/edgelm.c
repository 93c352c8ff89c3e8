/* edgelm.c -- the command-line program: dispatch to one subcommand. */
#include "cli.h"

#include <string.h>

#include "edgelm/common.h"

typedef struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} command;

static const command commands[] = {
    {"info", cmd_info, "describe a GGUF model: architecture, hyperparameters, tensors"},
    {"tokenize", cmd_tokenize, "turn text into tokens with a model's vocabulary"},
    {"convert-tokenizer", cmd_convert_tokenizer, "turn a Hugging Face tokenizer.json into a vocabulary GGUF"},
    {"generate", cmd_generate, "generate text from a prompt"},
    {"perplexity", cmd_perplexity, "perplexity of a text file (llama-perplexity's definition)"},
    {"profile", cmd_profile, "measure CPU, RAM and energy of any command (the study's AUC method)"},
    {"calibrate", cmd_calibrate, "fit a utilisation power model from a meter log"},
    {"synth", cmd_synth, "write a GGUF with a real model's exact layout and random weights"},
    {"quantize", cmd_quantize, "re-encode a GGUF into q8_0, q4_0, q4_k_m, f16, ... (llama.cpp's mixes)"},
    {"bench", cmd_bench, "prompt and generation speed, llama-bench's method and columns"},
    {"membw", cmd_membw, "measure memory bandwidth (STREAM-like), the decode roofline"},
    {"sweep", cmd_sweep, "measure prompt cost over token lengths (the study's experiment) into JSONL"},
    {"fit", cmd_fit, "fit a cost law (linear, knee) to a sweep, with confidence intervals"},
    {"compare", cmd_compare, "baseline versus other (e.g. compressed): reductions with CIs"},
    {"report", cmd_report, "a self-contained HTML report with plots of a directory of sweeps"},
};

static void usage(FILE *f)
{
    fprintf(f, "edgelm %s -- run, measure and compress local language models on the CPU\n\n",
            EL_VERSION_STRING);
    fprintf(f, "usage: edgelm COMMAND [options]   (edgelm COMMAND --help for its options)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-18s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (cli_is(argv[1], "-h", "--help") || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (cli_is(argv[1], "--version", "-V")) {
        printf("edgelm %s\n", EL_VERSION_STRING);
        return 0;
    }
    if (strcmp(argv[1], "sweep-worker") == 0) return cmd_sweep_worker(argc - 1, argv + 1);  // internal
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "edgelm: unknown command '%s' (see 'edgelm --help')\n", argv[1]);
    return 2;
}
