/* sampler.h -- (API being written) */
#ifndef EDGELM_SAMPLER_H
#define EDGELM_SAMPLER_H
#include "common.h"
#endif
