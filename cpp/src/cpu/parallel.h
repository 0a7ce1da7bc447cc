// Splitting the elements of many tensors into chunks that the CPU threads share, and the
// instruction set each chunk runs with.
#pragma once

#include <omp.h>

#include <algorithm>
#include <atomic>
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

// Chunks of tensor i never split a run of `granules[i]` elements (an averaging group of the
// AdaHessian step, or the 64 probes that share one random word).
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

// The instruction set the element loops run with. The library is built for the x86-64 baseline
// (SSE2); each chunk body is also compiled, inlined whole ([[gnu::flatten]]), for x86-64-v3
// (AVX2) and x86-64-v4 (AVX-512), and the best one the CPU has runs. Every path gives the same
// bits: IEEE-rounded element arithmetic, no contraction into FMAs (-ffp-contract=off, CMake), no
// reordered sums.
enum class Isa : int { kBaseline = 0, kAvx2 = 1, kAvx512 = 2 };

// GCC 12 names the x86-64 levels in __builtin_cpu_supports; elsewhere only the baseline runs.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#define AH4J_ISA_DISPATCH 1
#endif

inline Isa best_isa() {
#ifdef AH4J_ISA_DISPATCH
  if (__builtin_cpu_supports("x86-64-v4")) return Isa::kAvx512;
  if (__builtin_cpu_supports("x86-64-v3")) return Isa::kAvx2;
#endif
  return Isa::kBaseline;
}

inline std::atomic<int>& isa_setting() {
  static std::atomic<int> isa{static_cast<int>(best_isa())};
  return isa;
}

#ifdef AH4J_ISA_DISPATCH
template <typename F>
[[gnu::flatten]] __attribute__((target("arch=x86-64-v3"))) void run_avx2(F& body, const Chunk& c) {
  body(c);
}
template <typename F>
[[gnu::flatten]] __attribute__((target("arch=x86-64-v4,prefer-vector-width=512"))) void run_avx512(
    F& body, const Chunk& c) {
  body(c);
}
#endif

template <typename F>
inline void run_chunk(Isa isa, F& body, const Chunk& c) {
#ifdef AH4J_ISA_DISPATCH
  if (isa == Isa::kAvx512) return run_avx512(body, c);
  if (isa == Isa::kAvx2) return run_avx2(body, c);
#endif
  (void)isa;
  body(c);
}

// Whether n chunks of `total` elements in all run on this thread alone: a parallel region costs
// more than small work, and none is opened inside another.
inline bool run_serially(int64_t n, int64_t total) {
  return total < kParallelThreshold || n < 2 || omp_get_max_threads() < 2 || omp_in_parallel();
}

// Runs body(chunk) for every chunk, on libtorch's OpenMP threads when the work is large enough.
template <typename F>
void for_each_chunk(const std::vector<Chunk>& chunks, int64_t total, F&& body) {
  const int64_t n = static_cast<int64_t>(chunks.size());
  const Isa isa = static_cast<Isa>(isa_setting().load(std::memory_order_relaxed));
  if (run_serially(n, total)) {
    for (int64_t c = 0; c < n; ++c) run_chunk(isa, body, chunks[c]);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < n; ++c) run_chunk(isa, body, chunks[c]);
}

// for_each_chunk, with each thread taking the chunks that for_each_chunk gives it
// (schedule(static)'s share: contiguous, the first n % threads threads one more) last to first. For
// the read pass that precedes a step over the same tensors: it ends on the chunks the step's
// threads start with, so the step finds the most recently read part of them still in cache instead
// of reading it again from memory. Which thread runs a chunk and in which order never changes a
// result (each chunk's result is its own; callers combine them in chunk order).
template <typename F>
void for_each_chunk_last_first(const std::vector<Chunk>& chunks, int64_t total, F&& body) {
  const int64_t n = static_cast<int64_t>(chunks.size());
  const Isa isa = static_cast<Isa>(isa_setting().load(std::memory_order_relaxed));
  if (run_serially(n, total)) {
    for (int64_t c = n - 1; c >= 0; --c) run_chunk(isa, body, chunks[c]);
    return;
  }
#pragma omp parallel
  {
    const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t share = n / threads, extra = n % threads;
    const int64_t begin = t * share + std::min(t, extra);
    const int64_t end = begin + share + (t < extra ? 1 : 0);
    for (int64_t c = end - 1; c >= begin; --c) run_chunk(isa, body, chunks[c]);
  }
}

}  // namespace ah4j
