// Multi-tensor launches, like PyTorch's multi_tensor_apply: the host cuts every tensor of a call
// into chunks and packs up to kMaxTensors tensors and kMaxChunks chunks into one kernel argument
// (a Batch, passed by value: CUDA >= 12.1 takes up to 32,764 bytes of kernel parameters on sm_70
// and newer); each CUDA block does one chunk. Plain C++ (no CUDA), so the planner is tested on
// machines without a GPU (cpp/test/host_test.cpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "../chunking.h"

namespace ah4j {
namespace cuda {

constexpr int kMaxTensors = 48;
// Chunks per launch: as many as the kernel argument holds (with AdaHessian's double scalars).
constexpr int kMaxChunks = 1440;
// The chunk length of the launches (chunk_elements()) and its bounds are in ../chunking.h: the C
// API sets it in every build.
// Block averaging (AdaHessian): the means of its averaging groups that a chunk keeps in shared
// memory. An averaging group is the block_sizes[i] consecutive elements that share one mean of
// |D|; it is no CUDA block.
constexpr int64_t kMaxMeans = 4096;

// One chunk: elements [begin, end) of the batch's tensor chunk_tensor[c].
struct ChunkRef {
  int64_t begin;
  int64_t end;
};

// The kernel argument: kDepth pointers per tensor (its slots, ptr[slot][tensor]: params, grads,
// states..., as each kernel names them in kernels.cu), the tensor's per-parameter scalars, and the
// chunk table (kept compact: the tensor of a chunk is a byte).
template <int kDepth, typename Extra>
struct Batch {
  void* ptr[kDepth][kMaxTensors];
  Extra extra[kMaxTensors];
  ChunkRef chunk[kMaxChunks];
  uint8_t chunk_tensor[kMaxChunks];
};
static_assert(kMaxTensors <= 256, "chunk_tensor is a byte");

// One tensor of a call, as the planner sees it.
template <int kDepth, typename Extra>
struct Item {
  void* ptr[kDepth];
  int64_t numel;
  int64_t chunk_length;  // > 0; a multiple of the tensor's granule (averaging group, probe word)
  Extra extra;
};

// Elements per chunk for an AdaHessian parameter averaged over groups of `avg_group` elements:
// whole groups only, at most kMaxMeans of them and at most kMaxChunkElements elements, a multiple
// of 32 groups where that fits (chunks of float32 and float64 then start on 128-byte lines, of
// 2-byte dtypes on 64-byte ones: on an H200, float32 groups of 9 ran at 85% of copy bandwidth in
// chunks of 36,864 elements and at 59% in chunks of 32,760); a group larger than that is one
// chunk. Parameters without averaging (groups of 1) use chunks of `chunk`.
inline int64_t adahessian_chunk_length(int64_t avg_group, int64_t chunk) {
  if (avg_group <= 1) return chunk;
  int64_t groups = std::min<int64_t>(kMaxChunkElements / avg_group, kMaxMeans);
  if (groups >= 32) groups -= groups % 32;
  return groups >= 1 ? groups * avg_group : avg_group;
}

// How the threads of a CUDA block share the sums of one chunk's averaging-group means: 1 thread
// per group (summed in order, as the CPU does: bit-identical), a warp per group, or the whole
// CUDA block on one group. The value is the number of threads per group (-1: the whole block).
enum MeanThreads : int32_t {
  kNoMeans = 0,
  kThreadPerGroup = 1,
  kWarpPerGroup = 32,
  kBlockPerGroup = -1
};

inline MeanThreads mean_threads(int64_t avg_group) {
  if (avg_group <= 1) return kNoMeans;
  if (avg_group <= 64) return kThreadPerGroup;
  if (avg_group <= kMaxChunkElements) return kWarpPerGroup;
  return kBlockPerGroup;
}

// Calls launch(batch, chunk_count) for each batch that covers the items' elements, in order.
// Items with no elements are skipped. `batch` is reused between calls.
template <int kDepth, typename Extra, typename Launch>
void plan_batches(const std::vector<Item<kDepth, Extra>>& items, Batch<kDepth, Extra>& batch,
                  Launch&& launch) {
  int tensors = 0;
  int chunks = 0;
  for (const auto& item : items) {
    if (item.numel <= 0) continue;
    bool in_batch = false;
    for (int64_t begin = 0; begin < item.numel; begin += item.chunk_length) {
      if (!in_batch) {
        if (tensors == kMaxTensors) {
          launch(static_cast<const Batch<kDepth, Extra>&>(batch), chunks);
          tensors = chunks = 0;
        }
        for (int d = 0; d < kDepth; ++d) batch.ptr[d][tensors] = item.ptr[d];
        batch.extra[tensors] = item.extra;
        ++tensors;
        in_batch = true;
      }
      batch.chunk[chunks] = {begin, std::min(item.numel, begin + item.chunk_length)};
      batch.chunk_tensor[chunks++] = static_cast<uint8_t>(tensors - 1);
      if (chunks == kMaxChunks) {
        launch(static_cast<const Batch<kDepth, Extra>&>(batch), chunks);
        tensors = chunks = 0;
        in_batch = false;
      }
    }
  }
  if (chunks > 0) launch(static_cast<const Batch<kDepth, Extra>&>(batch), chunks);
}

}  // namespace cuda
}  // namespace ah4j
