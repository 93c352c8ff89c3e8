/* cli.h -- the subcommands of the edgelm program and their shared helpers.
 *
 * Every subcommand is `int cmd_NAME(int argc, char **argv)` in cli/cmd_NAME.c,
 * with argv[0] = the subcommand name. Exit codes: 0 success, 1 runtime error
 * (bad file, failed run), 2 usage error (bad flag or value). Errors go to
 * stderr as one line starting with "edgelm NAME: ". */
#ifndef EL_CLI_H
#define EL_CLI_H

#include <stdbool.h>
#include <stdio.h>

int cmd_info(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_convert_tokenizer(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_perplexity(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_membw(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_sweep_worker(int argc, char **argv);
int cmd_fit(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_report(int argc, char **argv);

/* Is argv[i] one of the given spellings ("-n", "--n-predict")? */
bool cli_is(const char *arg, const char *a, const char *b);
/* The value after flag argv[*i] (advances *i); NULL + message when missing. */
const char *cli_value(const char *cmd, int argc, char **argv, int *i);
/* Parse a number within [lo, hi]; message + -1 when it is not one. */
int cli_int(const char *cmd, const char *flag, const char *val, long long lo, long long hi,
            long long *out);
int cli_float(const char *cmd, const char *flag, const char *val, double lo, double hi,
              double *out);
/* "edgelm CMD: unknown option 'X' (see 'edgelm CMD --help')"; returns 2 */
int cli_unknown(const char *cmd, const char *arg);
/* "edgelm CMD: missing required option X"; returns 2 */
int cli_missing(const char *cmd, const char *what);
/* error line "edgelm CMD: <msg>" on stderr */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Physical cores of this machine (for the -t default). */
int cli_default_threads(void);

#endif
