/* measure.h -- (API being written) */
#ifndef EDGELM_MEASURE_H
#define EDGELM_MEASURE_H
#include "common.h"
#endif
