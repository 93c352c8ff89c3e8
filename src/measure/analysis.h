/* analysis.h -- internal: baseline and per-window statistics over samples. */
#ifndef EL_MEASURE_ANALYSIS_H
#define EL_MEASURE_ANALYSIS_H

#include "edgelm/measure.h"

/* Mean (and sd of the CPU signals) over the idle-phase samples, skipping the
 * first sample (its rates are undefined). Mean power from the energy counter. */
void el_compute_baseline(const el_sample *s, long n, el_baseline *b);
/* Fill w (except name/source) for samples [i0, i1]. */
void el_window_compute(const el_sample *s, long n, int i0, int i1, const el_baseline *b, int n_cpus,
                       double mem_total_mb, el_window_stats *w);

#endif
