/* cmd_membw.c -- `edgelm membw`: STREAM-like memory bandwidth, the roofline
 * that `edgelm bench` compares decode speed against. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "edgelm/bench.h"

static void membw_usage(FILE *f)
{
    fprintf(f,
            "usage: edgelm membw [-t THREADS] [--size MB] [-r REPS] [--small-pages] [--json]\n\n"
            "Measure memory bandwidth like STREAM (copy, scale, add, triad) plus a pure\n"
            "read kernel (decode reads every weight once per token). Best of REPS runs.\n"
            "The arrays are in transparent huge pages where the kernel allows them, as\n"
            "edgelm's packed weights are; the output says how much of them was.\n\n"
            "  -t, --threads N   threads (default: physical cores, %d here)\n"
            "  --size MB         size of each of the 3 arrays (default: 4x last-level cache, >= 64)\n"
            "  -r, --reps N      repetitions (default 10)\n"
            "  --small-pages     4 KiB pages instead (what programs that do not ask for\n"
            "                    huge pages get: on a VM often a third slower)\n"
            "  --json            JSON instead of a table\n",
            cli_default_threads());
}

int cmd_membw(int argc, char **argv)
{
    const char *cmd = "membw";
    long long threads = cli_default_threads(), size_mb = 0, reps = 10;
    bool json = false, small = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (cli_is(a, "-h", "--help")) {
            membw_usage(stdout);
            return 0;
        } else if (cli_is(a, "-t", "--threads")) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || cli_int(cmd, a, v, 1, 1024, &threads)) return 2;
        } else if (cli_is(a, "--size", NULL)) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || cli_int(cmd, a, v, 1, 65536, &size_mb)) return 2;
        } else if (cli_is(a, "-r", "--reps")) {
            if (!(v = cli_value(cmd, argc, argv, &i)) || cli_int(cmd, a, v, 1, 1000, &reps)) return 2;
        } else if (cli_is(a, "--json", NULL)) {
            json = true;
        } else if (cli_is(a, "--small-pages", NULL)) {
            small = true;
        } else {
            return cli_unknown(cmd, a);
        }
    }
    el_err err;
    el_threads *tp = el_threads_new((int)threads, &err);
    if (!tp) {
        cli_error(cmd, "%s", err.msg);
        return 1;
    }
    el_membw_result r;
    int rc = el_membw(tp, (size_t)size_mb << 20, (int)reps, small, &r, &err);
    el_threads_free(tp);
    if (rc) {
        cli_error(cmd, "%s", err.msg);
        return 1;
    }
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "unit", "GB/s (1e9 bytes/s), measured, best of reps");
        cJSON_AddNumberToObject(o, "threads", r.threads);
        cJSON_AddNumberToObject(o, "array_bytes", (double)r.array_bytes);
        cJSON_AddNumberToObject(o, "reps", r.reps);
        cJSON_AddStringToObject(o, "pages", r.small_pages ? "4k" : "huge where allowed");
        if (r.huge_share >= 0) cJSON_AddNumberToObject(o, "huge_page_share", r.huge_share);
        cJSON_AddNumberToObject(o, "copy", r.copy);
        cJSON_AddNumberToObject(o, "scale", r.scale);
        cJSON_AddNumberToObject(o, "add", r.add);
        cJSON_AddNumberToObject(o, "triad", r.triad);
        cJSON_AddNumberToObject(o, "read", r.read);
        char *s = cJSON_Print(o);
        if (s) puts(s);
        cJSON_free(s);
        cJSON_Delete(o);
        return 0;
    }
    char pages[64] = "page size unknown";
    if (r.huge_share >= 0) snprintf(pages, sizeof pages, "%.0f%% in huge pages", 100 * r.huge_share);
    printf("memory bandwidth (measured, best of %d, %d thread%s, 3 arrays of %.0f MiB, %s%s)\n", r.reps,
           r.threads, r.threads == 1 ? "" : "s", (double)r.array_bytes / (1 << 20), r.small_pages ? "4 KiB pages asked, " : "", pages);
    printf("| kernel | GB/s    |\n|--------|---------|\n");
    printf("| copy   | %7.2f |\n| scale  | %7.2f |\n| add    | %7.2f |\n| triad  | %7.2f |\n| read   | %7.2f |\n",
           r.copy, r.scale, r.add, r.triad, r.read);
    return 0;
}
