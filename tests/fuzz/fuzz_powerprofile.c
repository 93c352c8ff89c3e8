/* fuzz_powerprofile.c -- the power-profile JSON reader (written by edgelm
 * calibrate, read by --energy model:FILE.json) on arbitrary bytes. */
#include "fuzz.h"

#include <string.h>

#include "edgelm/measure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    el_err err;
    el_power_profile pp;
    if (el_power_profile_parse((const char *)data, size, "fuzz.json", &pp, &err) == 0) {
        volatile size_t sink = strlen(pp.name) + strlen(pp.source);
        (void)sink;
    }
    return 0;
}
