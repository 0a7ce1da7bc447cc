// How both device layers cut tensors into chunks, where the two must agree or the C API reaches
// the setting in every build: plain C++, included by the entry points, cpu/ and cuda/ alike.
#pragma once

#include <atomic>
#include <cstdint>

namespace ah4j {

// Probes: 64 elements share one random word (step_math.h's probe_word); on either device a chunk
// of probes starts at a multiple of 64.
constexpr int64_t kProbeWordBits = 64;

namespace cuda {

// Elements per chunk of the CUDA launches (per CUDA block): a power of two in
// [kMinChunkElements, kMaxChunkElements], set for the process by ah4j_cuda_chunk_elements (which
// every build has, with or without the kernels). The default, 16,384, is a quarter of PyTorch's
// multi_tensor_apply: a launch of 48 large tensors then holds several waves of blocks, so the
// last, partial wave costs little (measured on an H200: bench/gpu/verify.py, docs/results.md).
// The CPU loops cut their own chunks (cpu/parallel.h).
constexpr int64_t kMinChunkElements = 1 << 10;
constexpr int64_t kMaxChunkElements = 1 << 16;
constexpr int64_t kDefaultChunkElements = 1 << 14;
static_assert(kMinChunkElements % kProbeWordBits == 0, "probe chunks start at whole words");

inline std::atomic<int64_t>& chunk_elements_setting() {
  static std::atomic<int64_t> elements{kDefaultChunkElements};
  return elements;
}

inline int64_t chunk_elements() { return chunk_elements_setting().load(std::memory_order_relaxed); }

// Sets the chunk length if `elements` is valid; returns whether it was.
inline bool set_chunk_elements(int64_t elements) {
  const bool valid = elements >= kMinChunkElements && elements <= kMaxChunkElements &&
                     (elements & (elements - 1)) == 0;
  if (valid) chunk_elements_setting().store(elements, std::memory_order_relaxed);
  return valid;
}

}  // namespace cuda
}  // namespace ah4j
