/* fuzz_meterlog.c -- the external meter log parser (CSV: time and watts, or
 * volts and amps; headers, separators, ISO times) on arbitrary bytes; then
 * integrate the parsed log over a few ranges so that any bad bound shows. */
#include "fuzz.h"

#include <math.h>

#include "edgelm/measure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    el_err err;
    el_meterlog m;
    if (el_meterlog_parse((const char *)data, size, "fuzz.csv", &m, &err) != 0) return 0;
    double a = m.t[0], b = m.t[m.n - 1], gap, unc;
    volatile double sink = 0;
    sink += el_meterlog_energy(&m, a, b, 2.5 * m.median_dt, &gap, &unc);
    sink += el_meterlog_energy(&m, a - 10, a + 0.5 * (b - a), 0, &gap, &unc);
    sink += el_meterlog_energy(&m, b, a, 1, NULL, NULL);
    (void)sink;
    el_meterlog_free(&m);
    return 0;
}
