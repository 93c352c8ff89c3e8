/* fuzz_trace.c -- the profiler's trace CSV reader (as used by edgelm
 * calibrate) on arbitrary bytes, then a calibration fit against a fixed
 * meter log so the interpolation over the parsed trace is exercised too. */
#include "fuzz.h"

#include <string.h>

#include "edgelm/measure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    el_err err;
    el_trace tr;
    if (el_trace_parse((const char *)data, size, "fuzz.trace.csv", &tr, &err) != 0) return 0;
    static const char meter[] = "t,w\n0,1\n1,2\n2,3\n3,2\n4,5\n5,1\n";
    el_meterlog m;
    if (el_meterlog_parse(meter, strlen(meter), "m.csv", &m, &err) == 0) {
        // shift the meter onto the trace's time range
        for (long i = 0; i < m.n; i++) m.t[i] += tr.unix_s[0];
        el_power_fit fit;
        el_power_fit_meter(&m, &tr, 0, &fit, &err);
        el_meterlog_free(&m);
    }
    el_trace_free(&tr);
    return 0;
}
