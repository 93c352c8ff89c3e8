/*
 * edgelm.h -- the public C API of libedgelm.
 *
 * edgelm runs local language models on the CPU, measures what each prompt
 * costs (processor, memory, energy), fits the laws that cost follows,
 * compresses models and checks the answers stay as good.
 *
 * The API is split by room; this umbrella header pulls them all in:
 *
 *   edgelm/common.h     error reporting, version
 *   edgelm/types.h      tensor element types and quantisation blocks (ggml layouts)
 *   edgelm/gguf.h       GGUF reader (mmap, validated) and writer
 *   edgelm/tokenizer.h  SentencePiece, byte-level BPE and WordPiece tokenizers
 *   edgelm/model.h      model loading and the forward pass (llama, qwen2)
 *   edgelm/sampler.h    sampling (greedy, temperature, top-k/p, min-p, penalties)
 *   edgelm/measure.h    the profiler: sampler thread, baseline, windows, AUC, energy
 *
 * Conventions used everywhere:
 *   - functions that can fail return 0 on success and -1 on failure, and
 *     fill an el_err (when one is passed) with a one-line message that names
 *     the file, the field and what was expected;
 *   - objects are created by *_open / *_load / *_new and released by the
 *     matching *_close / *_free, which accept NULL;
 *   - tensor shapes follow ggml: ne[0] is the innermost (contiguous) dimension.
 */
#ifndef EDGELM_H
#define EDGELM_H

#include "edgelm/common.h"
#include "edgelm/types.h"
#include "edgelm/gguf.h"
#include "edgelm/tokenizer.h"
#include "edgelm/model.h"
#include "edgelm/sampler.h"
#include "edgelm/measure.h"

#endif
