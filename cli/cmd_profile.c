/* PLACEHOLDER: replaced by the implementation of this subcommand. */
#include "cli.h"
int cmd_profile(int argc, char **argv)
{
    (void)argc;
    cli_error(argv[0], "not built yet");
    return 1;
}
