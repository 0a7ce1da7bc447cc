// CUDA kernels of every fused step, multi-tensor (multi_tensor.h), on libtorch's current stream.
// The per-element math is step_math.h's, shared with the CPU loops; with --fmad=false (CMake sets
// it) float and double arithmetic rounds as on the CPU, so results are bit-identical to the CPU
// path except where noted in adahessian4j.h.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <dlfcn.h>

#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include "../step_math.h"
#include "adahessian4j.h"
#include "cuda_steps.h"
#include "multi_tensor.h"

namespace ah4j {
namespace cuda {
namespace {

constexpr int kThreads = 512;
constexpr int kWarps = kThreads / 32;
// Elements each thread loads before it computes and stores: more bytes in flight per SM.
constexpr int kIlp = 4;

// The tensor slots of each kernel's Batch, b.ptr[slot][tensor] (named as PyTorch's fused
// optimizers name theirs: kParamIdx, kGradIdx, ...); kDepth: the slots per tensor.
struct ProbeSlots {
  enum : int { kZIdx, kDepth };
};
struct HutchinsonSlots {
  enum : int { kDiagIdx, kZIdx, kHzIdx, kDepth };
};
struct AdaHessianSlots {
  enum : int { kParamIdx, kGradIdx, kHessianDiagIdx, kExpAvgIdx, kExpHessianDiagSqIdx, kDepth };
};
struct AdamSlots {
  enum : int { kParamIdx, kGradIdx, kExpAvgIdx, kExpAvgSqIdx, kMaxExpAvgSqIdx, kDepth };
};

static_assert(sizeof(Batch<AdamSlots::kDepth, AdamScalars<double>>) <= 32000,
              "kernel argument too large");

__device__ __forceinline__ float abs_of(float x) { return fabsf(x); }
__device__ __forceinline__ double abs_of(double x) { return fabs(x); }

__device__ __forceinline__ double warp_sum(double x) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) x += __shfl_xor_sync(0xffffffffu, x, offset);
  return x;
}

// ---------------------------------------------------------------------------------------------
// Probes. A warp writes 2,048 consecutive elements at a time: lane l computes random word l of
// them, and each of the 64 store rounds broadcasts the word its 32 elements share.

struct ProbeExtra {
  uint64_t stream;
};

template <typename P>
__global__ void __launch_bounds__(kThreads)
    rademacher_kernel(const Batch<ProbeSlots::kDepth, ProbeExtra> b) {
  const ChunkRef c = b.chunk[blockIdx.x];
  const int t = b.chunk_tensor[blockIdx.x];
  P* __restrict__ out = static_cast<P*>(b.ptr[ProbeSlots::kZIdx][t]);
  const uint64_t stream = b.extra[t].stream;
  const int lane = threadIdx.x & 31;
  const P plus = static_cast<P>(1.0f), minus = static_cast<P>(-1.0f);
  constexpr int64_t kSpan = 32 * kProbeWordBits;
  for (int64_t first = c.begin + (threadIdx.x >> 5) * kSpan; first < c.end;
       first += kWarps * kSpan) {
    const uint64_t word = probe_word(stream, first / kProbeWordBits + lane);
#pragma unroll 8
    for (int j = 0; j < 64; ++j) {
      const uint64_t w = __shfl_sync(0xffffffffu, word, j >> 1);
      const int64_t e = first + j * 32 + lane;
      if (e < c.end) out[e] = ((w >> ((j & 1) * 32 + lane)) & 1) ? plus : minus;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Hutchinson accumulation: d = (overwrite ? 0 : d) + z * hz * scale.

struct NoExtra {
  int32_t unused;
};

template <typename P, typename S>
__global__ void __launch_bounds__(kThreads)
    hutchinson_kernel(const Batch<HutchinsonSlots::kDepth, NoExtra> b, const S scale,
                      const int overwrite) {
  const ChunkRef c = b.chunk[blockIdx.x];
  const int t = b.chunk_tensor[blockIdx.x];
  S* __restrict__ d = static_cast<S*>(b.ptr[HutchinsonSlots::kDiagIdx][t]);
  const P* __restrict__ z = static_cast<const P*>(b.ptr[HutchinsonSlots::kZIdx][t]);
  const P* __restrict__ hz = static_cast<const P*>(b.ptr[HutchinsonSlots::kHzIdx][t]);
  for (int64_t base = c.begin + threadIdx.x; base < c.end; base += int64_t(kThreads) * kIlp) {
    S term[kIlp], old[kIlp];
#pragma unroll
    for (int k = 0; k < kIlp; ++k) {
      const int64_t i = base + int64_t(k) * kThreads;
      if (i < c.end) {
        term[k] = static_cast<S>(z[i]) * static_cast<S>(hz[i]) * scale;
        old[k] = overwrite ? S(0) : d[i];
      }
    }
#pragma unroll
    for (int k = 0; k < kIlp; ++k) {
      const int64_t i = base + int64_t(k) * kThreads;
      if (i < c.end) d[i] = overwrite ? term[k] : old[k] + term[k];
    }
  }
}

// ---------------------------------------------------------------------------------------------
// AdaHessian. Block averaging: |D| is averaged over averaging groups, the avg_group consecutive
// elements of a parameter that share one mean (the C API's block_sizes[i]; no CUDA block). A
// chunk holds whole groups (multi_tensor.h's adahessian_chunk_length), and its means are summed
// first, into shared memory, by the CUDA block's threads as mean_threads says.

template <typename S>
struct AdaHessianExtra {
  AdaHessianScalars<S> s;
  int64_t avg_group;     // elements per averaging group (1: no averaging)
  int32_t power;         // Power
  int32_t mean_threads;  // MeanThreads
  int32_t d_is_state;    // the diagonal has the state dtype S, else the param dtype P
  int32_t unused;
};

static_assert(sizeof(Batch<AdaHessianSlots::kDepth, AdaHessianExtra<double>>) <= 32000,
              "kernel argument too large");

// means[j] = mean |D| over averaging group j of the chunk: summed in double, in element order for
// kThreadPerGroup (exactly as the CPU loop), else per lane then across lanes. T: the threads that
// sum one group (MeanThreads; -1: all of the CUDA block's).
template <int T, typename S, typename D>
__device__ __forceinline__ void group_means(const D* __restrict__ d, int64_t begin, int64_t end,
                                            int64_t avg_group, S* means) {
  constexpr int kGroupThreads = T > 0 ? T : kThreads;
  __shared__ double warp_sums[kWarps];
  const int64_t count = (end - begin) / avg_group;
  const int lane = threadIdx.x % kGroupThreads;
  for (int64_t j = threadIdx.x / kGroupThreads; j < count; j += kThreads / kGroupThreads) {
    const int64_t first = begin + j * avg_group;
    double sum = 0;
    for (int64_t e = first + lane; e < first + avg_group; e += kGroupThreads) {
      sum += abs_of(static_cast<double>(static_cast<S>(d[e])));
    }
    if constexpr (kGroupThreads >= 32) sum = warp_sum(sum);
    if constexpr (kGroupThreads == kThreads) {
      if ((threadIdx.x & 31) == 0) warp_sums[threadIdx.x >> 5] = sum;
      __syncthreads();
      if (threadIdx.x < 32) sum = warp_sum(threadIdx.x < kWarps ? warp_sums[threadIdx.x] : 0.0);
      __syncthreads();
    }
    if (lane == 0) means[j] = static_cast<S>(sum / static_cast<double>(avg_group));
  }
}

template <Power K, typename P, typename S, typename D>
__device__ __forceinline__ void adahessian_chunk(P* __restrict__ p, const P* __restrict__ g,
                                                 const D* __restrict__ d, S* __restrict__ m,
                                                 S* __restrict__ v, const ChunkRef c,
                                                 const AdaHessianExtra<S>& x, const S* means) {
  const bool averaged = x.mean_threads != kNoMeans;
  const bool one_group = c.end - c.begin == x.avg_group;
  const uint32_t group = static_cast<uint32_t>(averaged && !one_group ? x.avg_group : 1);
  for (int64_t base = c.begin + threadIdx.x; base < c.end; base += int64_t(kThreads) * kIlp) {
    S pr[kIlp], gr[kIlp], dr[kIlp], mr[kIlp], vr[kIlp];
#pragma unroll
    for (int k = 0; k < kIlp; ++k) {
      const int64_t i = base + int64_t(k) * kThreads;
      if (i < c.end) {
        pr[k] = static_cast<S>(p[i]);
        gr[k] = static_cast<S>(g[i]);
        if (!averaged) {
          dr[k] = abs_of(static_cast<S>(d[i]));
        } else {
          dr[k] = means[one_group ? 0 : static_cast<uint32_t>(i - c.begin) / group];
        }
        mr[k] = m[i];
        vr[k] = v[i];
      }
    }
#pragma unroll
    for (int k = 0; k < kIlp; ++k) {
      const int64_t i = base + int64_t(k) * kThreads;
      if (i < c.end) {
        adahessian_element<K, S>(pr[k], gr[k], dr[k], mr[k], vr[k], x.s);
        p[i] = static_cast<P>(pr[k]);
        m[i] = mr[k];
        v[i] = vr[k];
      }
    }
  }
}

template <typename P, typename S, typename D>
__device__ __forceinline__ void adahessian_tensor(P* p, const P* g, const D* d, S* m, S* v,
                                                  const ChunkRef c, const AdaHessianExtra<S>& x,
                                                  S* means) {
  switch (x.mean_threads) {
    case kThreadPerGroup:
      group_means<kThreadPerGroup>(d, c.begin, c.end, x.avg_group, means);
      break;
    case kWarpPerGroup: group_means<kWarpPerGroup>(d, c.begin, c.end, x.avg_group, means); break;
    case kBlockPerGroup: group_means<kBlockPerGroup>(d, c.begin, c.end, x.avg_group, means); break;
    default: break;
  }
  if (x.mean_threads != kNoMeans) __syncthreads();
  switch (static_cast<Power>(x.power)) {
    case Power::kOne: adahessian_chunk<Power::kOne>(p, g, d, m, v, c, x, means); break;
    case Power::kHalf: adahessian_chunk<Power::kHalf>(p, g, d, m, v, c, x, means); break;
    default: adahessian_chunk<Power::kGeneral>(p, g, d, m, v, c, x, means); break;
  }
}

template <typename P, typename S>
__global__ void __launch_bounds__(kThreads)
    adahessian_kernel(const Batch<AdaHessianSlots::kDepth, AdaHessianExtra<S>> b) {
  __shared__ S means[kMaxMeans];
  const ChunkRef c = b.chunk[blockIdx.x];
  const int t = b.chunk_tensor[blockIdx.x];
  const AdaHessianExtra<S> x = b.extra[t];
  P* p = static_cast<P*>(b.ptr[AdaHessianSlots::kParamIdx][t]);
  const P* g = static_cast<const P*>(b.ptr[AdaHessianSlots::kGradIdx][t]);
  const void* d = b.ptr[AdaHessianSlots::kHessianDiagIdx][t];
  S* m = static_cast<S*>(b.ptr[AdaHessianSlots::kExpAvgIdx][t]);
  S* v = static_cast<S*>(b.ptr[AdaHessianSlots::kExpHessianDiagSqIdx][t]);
  if (x.d_is_state) {
    adahessian_tensor(p, g, static_cast<const S*>(d), m, v, c, x, means);
  } else {
    adahessian_tensor(p, g, static_cast<const P*>(d), m, v, c, x, means);
  }
}

// ---------------------------------------------------------------------------------------------
// Adam / AdamW.

template <typename P, typename S>
__global__ void __launch_bounds__(kThreads)
    adam_kernel(const Batch<AdamSlots::kDepth, AdamScalars<S>> b) {
  const ChunkRef c = b.chunk[blockIdx.x];
  const int t = b.chunk_tensor[blockIdx.x];
  const AdamScalars<S> s = b.extra[t];
  P* __restrict__ p = static_cast<P*>(b.ptr[AdamSlots::kParamIdx][t]);
  const P* __restrict__ g = static_cast<const P*>(b.ptr[AdamSlots::kGradIdx][t]);
  S* __restrict__ m = static_cast<S*>(b.ptr[AdamSlots::kExpAvgIdx][t]);
  S* __restrict__ v = static_cast<S*>(b.ptr[AdamSlots::kExpAvgSqIdx][t]);
  S* __restrict__ vmax =
      static_cast<S*>(b.ptr[AdamSlots::kMaxExpAvgSqIdx][t]);  // null without amsgrad
  for (int64_t base = c.begin + threadIdx.x; base < c.end; base += int64_t(kThreads) * kIlp) {
    S pr[kIlp], gr[kIlp], mr[kIlp], vr[kIlp], xr[kIlp];
#pragma unroll
    for (int k = 0; k < kIlp; ++k) {
      const int64_t i = base + int64_t(k) * kThreads;
      if (i < c.end) {
        pr[k] = static_cast<S>(p[i]);
        gr[k] = static_cast<S>(g[i]);
        mr[k] = m[i];
        vr[k] = v[i];
        xr[k] = s.amsgrad ? vmax[i] : S(0);
      }
    }
#pragma unroll
    for (int k = 0; k < kIlp; ++k) {
      const int64_t i = base + int64_t(k) * kThreads;
      if (i < c.end) {
        adam_element<S>(pr[k], gr[k], mr[k], vr[k], &xr[k], s);
        p[i] = static_cast<P>(pr[k]);
        m[i] = mr[k];
        v[i] = vr[k];
        if (s.amsgrad) vmax[i] = xr[k];
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Host side.

[[noreturn]] void cuda_fail(const std::string& what, cudaError_t status) {
  throw CoreError{AH4J_CUDA_ERROR, -1,
                  "CUDA " + what + " failed: " + cudaGetErrorName(status) + " (" +
                      cudaGetErrorString(status) + ")"};
}

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) cuda_fail(what, status);
}

// libtorch's aoti_torch_get_current_cuda_stream lives in libtorch_cuda.so, which the process has
// loaded whenever it has cuda tensors. It is looked up at run time (the global scope first, then
// the loaded libtorch_cuda.so by name) so the core links against libtorch_cpu alone.
using CurrentStreamFn = int32_t (*)(int32_t, void**);

CurrentStreamFn current_stream_fn() {
  static std::atomic<CurrentStreamFn> cached{nullptr};
  if (CurrentStreamFn known = cached.load()) return known;
  void* symbol = dlsym(RTLD_DEFAULT, "aoti_torch_get_current_cuda_stream");
  if (symbol == nullptr) {
    if (void* library = dlopen("libtorch_cuda.so", RTLD_LAZY | RTLD_NOLOAD)) {
      symbol = dlsym(library, "aoti_torch_get_current_cuda_stream");
    }
  }
  cached.store(reinterpret_cast<CurrentStreamFn>(symbol));
  return reinterpret_cast<CurrentStreamFn>(symbol);
}

// Makes `device` current for the launches and restores the caller's device afterwards.
class DeviceScope {
 public:
  explicit DeviceScope(int32_t device) {
    check(cudaGetDevice(&previous_), "cudaGetDevice");
    if (previous_ != device) check(cudaSetDevice(device), "cudaSetDevice");
    device_ = device;
  }
  ~DeviceScope() {
    if (previous_ != device_) cudaSetDevice(previous_);
  }
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int previous_ = 0;
  int device_ = 0;
};

cudaStream_t current_stream(int32_t device) {
  CurrentStreamFn fn = current_stream_fn();
  if (fn == nullptr) {
    throw CoreError{AH4J_CUDA_ERROR, -1,
                    "cuda tensors, but libtorch's CUDA library (libtorch_cuda.so, which has "
                    "aoti_torch_get_current_cuda_stream) is not loaded in this process"};
  }
  void* stream = nullptr;
  if (fn(device, &stream) != 0) {
    throw CoreError{
        AH4J_CUDA_ERROR, -1,
        "libtorch could not tell the current CUDA stream of device " + std::to_string(device)};
  }
  return static_cast<cudaStream_t>(stream);
}

// dispatch_param (../tensors.h) with CUDA's 16-bit types.
template <typename F>
void dispatch_cuda(DType dtype, F&& body) {
  dispatch_param<__half, __nv_bfloat16>(dtype, std::forward<F>(body));
}

constexpr DType kDTypes[] = {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16};

// Runs body(dtype, indices) for each dtype the params have, with the indices of its params:
// a launch handles one dtype.
template <typename F>
void by_dtype(const std::vector<TensorView>& params, F&& body) {
  for (DType dtype : kDTypes) {
    std::vector<size_t> indices;
    for (size_t i = 0; i < params.size(); ++i) {
      if (params[i].dtype == dtype && params[i].numel > 0) indices.push_back(i);
    }
    if (!indices.empty()) body(dtype, indices);
  }
}

// The device of a call (all its tensors are on it), or -1 if no tensor has elements.
int32_t device_of(const std::vector<TensorView>& params) {
  for (const auto& p : params) {
    if (p.numel > 0) return p.device_index;
  }
  return -1;
}

// What every launching function starts with: the call's device (nothing to do if no tensor has
// elements), its current stream, that device made current, one chunk length for the whole call;
// then body(dtype, indices, stream, chunk) for each dtype the tensors have.
template <typename F>
void on_device_by_dtype(const std::vector<TensorView>& tensors, F&& body) {
  const int32_t device = device_of(tensors);
  if (device < 0) return;
  cudaStream_t stream = current_stream(device);
  DeviceScope scope(device);
  const int64_t chunk = chunk_elements();
  by_dtype(tensors, [&](DType dtype, const std::vector<size_t>& indices) {
    body(dtype, indices, stream, chunk);
  });
}

template <int kDepth, typename Extra, typename Launch>
void launch_batches(const std::vector<Item<kDepth, Extra>>& items, Launch&& launch) {
  Batch<kDepth, Extra> batch;
  plan_batches(items, batch, [&](const Batch<kDepth, Extra>& full, int chunks) {
    launch(full, chunks);
    check(cudaGetLastError(), "kernel launch");
  });
}

}  // namespace

void rademacher(const RademacherCall& call) {
  const auto& zs = call.zs;
  on_device_by_dtype(
      zs, [&](DType dtype, const std::vector<size_t>& indices, cudaStream_t stream, int64_t chunk) {
        using Slots = ProbeSlots;
        std::vector<Item<Slots::kDepth, ProbeExtra>> items;
        for (size_t i : indices) {
          Item<Slots::kDepth, ProbeExtra> item{};
          item.ptr[Slots::kZIdx] = zs[i].data;
          item.numel = zs[i].numel;
          item.chunk_length = chunk;
          item.extra = {call.streams[i]};
          items.push_back(item);
        }
        dispatch_cuda(dtype, [&](auto p_tag, auto) {
          using P = typename decltype(p_tag)::type;
          launch_batches(items, [&](const Batch<Slots::kDepth, ProbeExtra>& b, int chunks) {
            rademacher_kernel<P><<<chunks, kThreads, 0, stream>>>(b);
          });
        });
      });
}

void hutchinson(const HutchinsonCall& call) {
  const auto& zs = call.zs;
  on_device_by_dtype(
      zs, [&](DType dtype, const std::vector<size_t>& indices, cudaStream_t stream, int64_t chunk) {
        using Slots = HutchinsonSlots;
        std::vector<Item<Slots::kDepth, NoExtra>> items;
        for (size_t i : indices) {
          Item<Slots::kDepth, NoExtra> item{};
          item.ptr[Slots::kDiagIdx] = call.diags[i].data;
          item.ptr[Slots::kZIdx] = zs[i].data;
          item.ptr[Slots::kHzIdx] = call.hzs[i].data;
          item.numel = zs[i].numel;
          item.chunk_length = chunk;
          item.extra = {0};
          items.push_back(item);
        }
        dispatch_cuda(dtype, [&](auto p_tag, auto s_tag) {
          using P = typename decltype(p_tag)::type;
          using S = typename decltype(s_tag)::type;
          launch_batches(items, [&](const Batch<Slots::kDepth, NoExtra>& b, int chunks) {
            hutchinson_kernel<P, S><<<chunks, kThreads, 0, stream>>>(b, static_cast<S>(call.scale),
                                                                     call.overwrite ? 1 : 0);
          });
        });
      });
}

void adahessian(const AdaHessianCall& call) {
  const auto& p = call.params;
  on_device_by_dtype(
      p, [&](DType dtype, const std::vector<size_t>& indices, cudaStream_t stream, int64_t chunk) {
        dispatch_cuda(dtype, [&](auto p_tag, auto s_tag) {
          using P = typename decltype(p_tag)::type;
          using S = typename decltype(s_tag)::type;
          using Slots = AdaHessianSlots;
          std::vector<Item<Slots::kDepth, AdaHessianExtra<S>>> items;
          for (size_t i : indices) {
            const double* h = call.hyper + i * AH4J_HP_COUNT;
            const int64_t avg_group = call.block_sizes[i];
            AdaHessianExtra<S> x{};
            x.s = adahessian_scalars<S>(h[AH4J_HP_LR], h[AH4J_HP_BETA1], h[AH4J_HP_BETA2],
                                        h[AH4J_HP_EPS], h[AH4J_HP_WEIGHT_DECAY],
                                        h[AH4J_HP_HESSIAN_POWER], call.steps[i]);
            x.avg_group = avg_group;
            x.power = static_cast<int32_t>(power_kind(h[AH4J_HP_HESSIAN_POWER]));
            x.mean_threads = mean_threads(avg_group);
            x.d_is_state = call.diag_is_state[i] ? 1 : 0;
            Item<Slots::kDepth, AdaHessianExtra<S>> item{};
            item.ptr[Slots::kParamIdx] = p[i].data;
            item.ptr[Slots::kGradIdx] = call.grads[i].data;
            item.ptr[Slots::kHessianDiagIdx] = call.hessian_diags[i].data;
            item.ptr[Slots::kExpAvgIdx] = call.exp_avgs[i].data;
            item.ptr[Slots::kExpHessianDiagSqIdx] = call.exp_hessian_diag_sqs[i].data;
            item.numel = p[i].numel;
            item.chunk_length = adahessian_chunk_length(avg_group, chunk);
            item.extra = x;
            items.push_back(item);
          }
          launch_batches(items, [&](const Batch<Slots::kDepth, AdaHessianExtra<S>>& b, int chunks) {
            adahessian_kernel<P, S><<<chunks, kThreads, 0, stream>>>(b);
          });
        });
      });
}

void adam(const AdamCall& call) {
  const auto& p = call.params;
  on_device_by_dtype(
      p, [&](DType dtype, const std::vector<size_t>& indices, cudaStream_t stream, int64_t chunk) {
        dispatch_cuda(dtype, [&](auto p_tag, auto s_tag) {
          using P = typename decltype(p_tag)::type;
          using S = typename decltype(s_tag)::type;
          using Slots = AdamSlots;
          std::vector<Item<Slots::kDepth, AdamScalars<S>>> items;
          for (size_t i : indices) {
            const double* h = call.hyper + i * AH4J_HP_COUNT;
            const int32_t flags = call.flags[i];
            const bool amsgrad = flags & AH4J_ADAM_AMSGRAD;
            Item<Slots::kDepth, AdamScalars<S>> item{};
            item.ptr[Slots::kParamIdx] = p[i].data;
            item.ptr[Slots::kGradIdx] = call.grads[i].data;
            item.ptr[Slots::kExpAvgIdx] = call.exp_avgs[i].data;
            item.ptr[Slots::kExpAvgSqIdx] = call.exp_avg_sqs[i].data;
            item.ptr[Slots::kMaxExpAvgSqIdx] = amsgrad ? call.max_exp_avg_sqs[i].data : nullptr;
            item.numel = p[i].numel;
            item.chunk_length = chunk;
            item.extra = adam_scalars<S>(h[AH4J_HP_LR], h[AH4J_HP_BETA1], h[AH4J_HP_BETA2],
                                         h[AH4J_HP_EPS], h[AH4J_HP_WEIGHT_DECAY], call.steps[i],
                                         amsgrad, flags & AH4J_ADAM_MAXIMIZE,
                                         flags & AH4J_ADAM_DECOUPLED_WEIGHT_DECAY);
            items.push_back(item);
          }
          launch_batches(items, [&](const Batch<Slots::kDepth, AdamScalars<S>>& b, int chunks) {
            adam_kernel<P, S><<<chunks, kThreads, 0, stream>>>(b);
          });
        });
      });
}

}  // namespace cuda
}  // namespace ah4j
