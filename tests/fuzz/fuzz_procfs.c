/* fuzz_procfs.c -- the text parsers behind the sampler, on arbitrary bytes:
 * /proc/PID/stat (comm with spaces and parentheses), /proc/stat's cpu line,
 * /proc/meminfo, and `vcgencmd pmic_read_adc` output. The first byte picks
 * the parser; the rest, NUL-terminated, is its input. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "measure/measure_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    char *text = malloc(size);
    if (!text) return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = 0;
    int ppid, n;
    unsigned long long t[4], busy, total;
    long nth, rss;
    double a, b;
    switch (data[0] % 4) {
    case 0: el_parse_pid_stat_rss(text, &ppid, t, &nth, &rss); break;
    case 1: el_parse_proc_stat(text, &busy, &total, &n); break;
    case 2: el_parse_meminfo(text, &a, &b); break;
    default: el_parse_pmic(text, &a, &n); break;
    }
    free(text);
    return 0;
}
