// Splitting the elements of many tensors into chunks that the CPU threads share.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace ah4j {

// Elements per chunk: large enough to amortise scheduling, small enough to balance 2-64 threads.
constexpr int64_t kChunkSize = 1 << 15;
// Below this many elements in all, one thread does the whole step: a parallel region costs more.
constexpr int64_t kParallelThreshold = 1 << 16;

struct Chunk {
  int64_t tensor;
  int64_t begin;
  int64_t end;
};

// Chunks of tensor i never split a block of `granules[i]` elements (a block-averaging block, or
// the 64 probes that share one random word).
inline std::vector<Chunk> make_chunks(const std::vector<int64_t>& numels,
                                      const std::vector<int64_t>& granules, int64_t* total) {
  std::vector<Chunk> chunks;
  *total = 0;
  for (size_t i = 0; i < numels.size(); ++i) {
    const int64_t n = numels[i];
    const int64_t granule = std::max<int64_t>(1, granules[i]);
    const int64_t step = std::max<int64_t>(granule, kChunkSize / granule * granule);
    for (int64_t begin = 0; begin < n; begin += step) {
      chunks.push_back({static_cast<int64_t>(i), begin, std::min(n, begin + step)});
    }
    *total += n;
  }
  return chunks;
}

// Runs body(chunk) for every chunk, on libtorch's OpenMP threads when the work is large enough.
template <typename F>
void for_each_chunk(const std::vector<Chunk>& chunks, int64_t total, F&& body) {
  const int64_t n = static_cast<int64_t>(chunks.size());
  if (total < kParallelThreshold || n < 2 || omp_get_max_threads() < 2 || omp_in_parallel()) {
    for (int64_t c = 0; c < n; ++c) body(chunks[c]);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < n; ++c) body(chunks[c]);
}

}  // namespace ah4j
