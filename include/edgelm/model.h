/* model.h -- (API being written) */
#ifndef EDGELM_MODEL_H
#define EDGELM_MODEL_H
#include "common.h"
#endif
