// The C entry points: validate every input first (the same checks for every device), then run
// the shared element math over all parameters' chunks: on the CPU here, or, for cuda tensors, in
// the CUDA kernels (cuda/kernels.cu, built with -DAH4J_CUDA=ON).
#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

#include <cmath>
#include <cstring>
#include <sstream>
#include <type_traits>
#include <vector>

#include "adahessian4j.h"
#include "cuda/multi_tensor.h"  // plain C++: the chunk length setting exists in every build
#include "parallel.h"
#include "step_math.h"
#include "tensors.h"
#ifdef AH4J_WITH_CUDA
#include "cuda/cuda_steps.h"
#endif

namespace ah4j {
namespace {

constexpr int64_t kProbeWordBits = 64;

// Calls body<P, S>() with the C++ types of a parameter dtype and of its state.
template <typename F>
void dispatch_param(DType dtype, F&& body) {
  switch (dtype) {
    case DType::kFloat32: body(float{}, float{}); break;
    case DType::kFloat64: body(double{}, double{}); break;
    case DType::kFloat16: body(c10::Half{}, float{}); break;
    case DType::kBFloat16: body(c10::BFloat16{}, float{}); break;
    default: break;  // rejected by check_param before any kernel runs
  }
}

void require_lists(int64_t count, std::initializer_list<const void*> lists) {
  if (count < 0) fail(-1, "count must be >= 0, got " + std::to_string(count));
  if (count == 0) return;
  for (const void* list : lists) {
    if (list == nullptr) fail(-1, "a list argument is null while count is " + std::to_string(count));
  }
}

std::vector<TensorView> read_params(void* const* params, int64_t count) {
  std::vector<TensorView> views;
  views.reserve(count);
  for (int64_t i = 0; i < count; ++i) {
    views.push_back(read_tensor(params[i], "params", i));
    check_param(views.back(), i);
    check_same_device(views.front(), views.back(), i);
  }
  return views;
}

#ifdef AH4J_WITH_CUDA
// Whether a call's tensors (all on one device, checked) are cuda tensors.
bool on_cuda(const std::vector<TensorView>& params) {
  return !params.empty() && params.front().device == Device::kCuda;
}
#endif

std::vector<TensorView> read_matching(void* const* list, const char* role,
                                      const std::vector<TensorView>& params, bool state) {
  std::vector<TensorView> views;
  views.reserve(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    const int64_t index = static_cast<int64_t>(i);
    views.push_back(read_tensor(list[i], role, index));
    check_matches(params[i], views.back(), state ? state_dtype(params[i].dtype) : params[i].dtype,
                  role, index);
  }
  return views;
}

std::vector<int64_t> numels_of(const std::vector<TensorView>& views) {
  std::vector<int64_t> numels;
  for (const auto& v : views) numels.push_back(v.numel);
  return numels;
}

void check_hyper(const double* hyper, int64_t count, bool adahessian) {
  for (int64_t i = 0; i < count; ++i) {
    const double* row = hyper + i * AH4J_HP_COUNT;
    const int columns = adahessian ? AH4J_HP_COUNT : AH4J_HP_HESSIAN_POWER;
    for (int c = 0; c < columns; ++c) {
      if (!std::isfinite(row[c])) {
        static const char* names[] = {"lr", "beta1", "beta2", "eps", "weight_decay", "hessian_power"};
        std::ostringstream out;
        out << "hyperparameter " << names[c] << " must be finite, got " << row[c];
        fail(i, out.str());
      }
    }
  }
}

void check_steps(const int64_t* steps, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    if (steps[i] < 1) {
      fail(i, "step must be >= 1, got " + std::to_string(steps[i]));
    }
  }
}

template <Power K, typename P, typename S, typename D>
void adahessian_range(P* __restrict p, const P* __restrict g, const D* __restrict d, S* __restrict m,
                      S* __restrict v, int64_t begin, int64_t end, int64_t block,
                      const AdaHessianScalars<S> s) {  // by value: stores cannot alias it
  if (block == 1) {
    for (int64_t i = begin; i < end; ++i) {
      S pi = static_cast<S>(p[i]), mi = m[i], vi = v[i];
      adahessian_element<K, S>(pi, static_cast<S>(g[i]), std::abs(static_cast<S>(d[i])), mi, vi, s);
      p[i] = static_cast<P>(pi);
      m[i] = mi;
      v[i] = vi;
    }
    return;
  }
  // Block averaging in two passes over the chunk, so that both vectorise and the bits stay those
  // of the one-block-at-a-time loop: (1) the block means of |D|, eight blocks at a time in eight
  // lanes, each lane summing its block's elements in order in double as that loop did; spread to
  // one value per element in a scratch buffer of the chunk's length; (2) the element update of
  // block size 1, reading the means from the buffer.
  thread_local std::vector<S> scratch;
  const int64_t length = end - begin;
  if (static_cast<int64_t>(scratch.size()) < length) scratch.resize(static_cast<size_t>(length));
  S* __restrict dbar = scratch.data();
  constexpr int kLanes = 8;
  const double count = static_cast<double>(block);
  int64_t b = begin;
  for (; b + kLanes * block <= end; b += kLanes * block) {
    double sum[kLanes] = {};
    for (int64_t j = 0; j < block; ++j) {
      for (int l = 0; l < kLanes; ++l) {
        sum[l] += std::abs(static_cast<double>(static_cast<S>(d[b + l * block + j])));
      }
    }
    for (int l = 0; l < kLanes; ++l) {
      const S mean = static_cast<S>(sum[l] / count);
      for (int64_t j = 0; j < block; ++j) dbar[b - begin + l * block + j] = mean;
    }
  }
  for (; b < end; b += block) {
    double sum = 0;
    for (int64_t i = b; i < b + block; ++i) sum += std::abs(static_cast<double>(static_cast<S>(d[i])));
    const S mean = static_cast<S>(sum / count);
    for (int64_t i = b; i < b + block; ++i) dbar[i - begin] = mean;
  }
  for (int64_t i = begin; i < end; ++i) {
    S pi = static_cast<S>(p[i]), mi = m[i], vi = v[i];
    adahessian_element<K, S>(pi, static_cast<S>(g[i]), dbar[i - begin], mi, vi, s);
    p[i] = static_cast<P>(pi);
    m[i] = mi;
    v[i] = vi;
  }
}

// Whether x[begin, end) holds NaN or +-inf: an all-ones exponent. Integer tests and an OR
// reduction, so the float and double loops vectorise.
template <typename Bits, typename T>
bool exponent_all_ones(const T* __restrict x, int64_t begin, int64_t end, Bits mask) {
  Bits any = 0;
  for (int64_t i = begin; i < end; ++i) {
    Bits bits;
    std::memcpy(&bits, x + i, sizeof bits);
    any |= static_cast<Bits>((bits & mask) == mask);
  }
  return any != 0;
}

inline bool has_non_finite(const float* x, int64_t begin, int64_t end) {
  return exponent_all_ones<uint32_t>(x, begin, end, 0x7f800000u);
}

inline bool has_non_finite(const double* x, int64_t begin, int64_t end) {
  return exponent_all_ones<uint64_t>(x, begin, end, 0x7ff0000000000000ull);
}

template <typename H>
bool has_non_finite(const H* x, int64_t begin, int64_t end) {  // float16, bfloat16
  for (int64_t i = begin; i < end; ++i) {
    if (!std::isfinite(static_cast<float>(x[i]))) return true;
  }
  return false;
}

// signs[b][j] = +1 if bit j of byte b is set, else -1: the probes of one byte of a random word.
template <typename P>
struct SignTable {
  P signs[256][8];

  static const SignTable& get() {
    static const SignTable table;
    return table;
  }

 private:
  SignTable() {
    for (int b = 0; b < 256; ++b) {
      for (int j = 0; j < 8; ++j) signs[b][j] = P(((b >> j) & 1) ? 1.0f : -1.0f);
    }
  }
};

template <typename P, typename S>
void adam_range(P* __restrict p, const P* __restrict g, S* __restrict m, S* __restrict v,
                S* __restrict vmax, int64_t begin, int64_t end,
                const AdamScalars<S> s) {  // by value: stores cannot alias it
  S unused = 0;
  for (int64_t i = begin; i < end; ++i) {
    S pi = static_cast<S>(p[i]), mi = m[i], vi = v[i];
    adam_element<S>(pi, static_cast<S>(g[i]), mi, vi, vmax ? vmax + i : &unused, s);
    p[i] = static_cast<P>(pi);
    m[i] = mi;
    v[i] = vi;
  }
}

// Partial statistics of one chunk (see ah4j_tensor_stats).
struct ChunkStats {
  double sum_sq = 0;
  double sum_abs = 0;
  double max_abs = 0;
  bool non_finite = false;
};

// Sums of x^2 and |x| and the max of |x| over x[begin, end), in double: 32 lanes, lane j taking
// the elements i = j (mod 32) in order (independent lanes: the loops vectorise without
// reassociating a sum, so every instruction set gives the same bits), combined in a fixed order,
// then the tail in order. A sum of squares in double is non-finite exactly when some element is
// NaN or infinite, short of overflow: float inputs cannot overflow it (3.4e38^2 is 1.2e77), so for
// them it is the non-finite check; for float64 a non-finite sum is confirmed with the exact
// exponent test.
template <typename P>
ChunkStats stats_range(const P* __restrict x, int64_t begin, int64_t end) {
  constexpr int kLanes = 32;
  double sq[kLanes] = {}, ab[kLanes] = {}, mx[kLanes] = {};
  int64_t i = begin;
  for (; i + kLanes <= end; i += kLanes) {
    double a[kLanes];
    for (int j = 0; j < kLanes; ++j) a[j] = std::abs(static_cast<double>(x[i + j]));
    for (int j = 0; j < kLanes; ++j) sq[j] += a[j] * a[j];
    for (int j = 0; j < kLanes; ++j) ab[j] += a[j];
    for (int j = 0; j < kLanes; ++j) mx[j] = mx[j] < a[j] ? a[j] : mx[j];
  }
  ChunkStats s;
  for (int j = 0; j < kLanes; ++j) {
    s.sum_sq += sq[j];
    s.sum_abs += ab[j];
    s.max_abs = s.max_abs < mx[j] ? mx[j] : s.max_abs;
  }
  for (; i < end; ++i) {
    const double a = std::abs(static_cast<double>(x[i]));
    s.sum_sq += a * a;
    s.sum_abs += a;
    s.max_abs = s.max_abs < a ? a : s.max_abs;
  }
  s.non_finite = !std::isfinite(s.sum_sq) && (sizeof(P) < 8 || has_non_finite(x, begin, end));
  return s;
}

// float16 and bfloat16: element by element (their sums cannot overflow either).
template <typename H>
ChunkStats stats_range_half(const H* __restrict x, int64_t begin, int64_t end) {
  ChunkStats s;
  for (int64_t i = begin; i < end; ++i) {
    const double a = std::abs(static_cast<double>(static_cast<float>(x[i])));
    s.sum_sq += a * a;
    s.sum_abs += a;
    s.max_abs = s.max_abs < a ? a : s.max_abs;
  }
  s.non_finite = !std::isfinite(s.sum_sq);
  return s;
}

inline ChunkStats stats_range(const c10::Half* x, int64_t begin, int64_t end) {
  return stats_range_half(x, begin, end);
}

inline ChunkStats stats_range(const c10::BFloat16* x, int64_t begin, int64_t end) {
  return stats_range_half(x, begin, end);
}

}  // namespace
}  // namespace ah4j

using namespace ah4j;

extern "C" {

int ah4j_has_cuda_kernels(void) { return kHasCudaKernels ? 1 : 0; }

int ah4j_cpu_isa(int isa) {
  if (isa >= 0) {
    if (isa > static_cast<int>(best_isa())) return -1;
    isa_setting().store(isa, std::memory_order_relaxed);
  }
  return isa_setting().load(std::memory_order_relaxed);
}

int64_t ah4j_cuda_chunk_elements(int64_t elements) {
  if (elements != 0 && !cuda::set_chunk_elements(elements)) return -1;
  return cuda::chunk_elements();
}

int ah4j_rademacher_(void* const* zs, const int64_t* param_ids, int64_t count, uint64_t seed,
                     uint64_t counter) {
  return guarded([&] {
    require_lists(count, {zs, param_ids});
    std::vector<TensorView> views = read_params(zs, count);
    std::vector<uint64_t> streams;
    for (int64_t i = 0; i < count; ++i) streams.push_back(probe_stream(seed, counter, param_ids[i]));
#ifdef AH4J_WITH_CUDA
    if (on_cuda(views)) return cuda::rademacher(views, streams);
#endif
    int64_t total = 0;
    auto chunks = make_chunks(numels_of(views), std::vector<int64_t>(count, kProbeWordBits), &total);
    for_each_chunk(chunks, total, [&](const Chunk& c) {
      const TensorView& z = views[c.tensor];
      dispatch_param(z.dtype, [&](auto p_tag, auto) {
        using P = decltype(p_tag);
        P* out = static_cast<P*>(z.data);
        const auto& table = SignTable<P>::get();
        for (int64_t w = c.begin / kProbeWordBits; w * kProbeWordBits < c.end; ++w) {
          const uint64_t word = probe_word(streams[c.tensor], w);
          const int64_t first = w * kProbeWordBits;
          const int64_t last = std::min(c.end, first + kProbeWordBits);
          if (last - first == kProbeWordBits) {
            // Whole word: copy the signs of each byte from the table (8 elements at a time).
            for (int byte = 0; byte < 8; ++byte) {
              std::memcpy(out + first + 8 * byte, table.signs[(word >> (8 * byte)) & 0xff], 8 * sizeof(P));
            }
          } else {
            for (int64_t e = first; e < last; ++e) out[e] = table.signs[(word >> (e - first)) & 1][0];
          }
        }
      });
    });
  });
}

int ah4j_find_non_finite(void* const* tensors, int64_t count, int64_t* first_non_finite) {
  return guarded([&] {
    require_lists(count, {tensors, first_non_finite});
    if (first_non_finite == nullptr) fail(-1, "first_non_finite is null");
    *first_non_finite = -1;
    std::vector<TensorView> t = read_params(tensors, count);
    for (int64_t i = 0; i < count; ++i) {
      if (t[i].device != Device::kCpu) {
        fail(i, "tensors: expected a cpu tensor, got " + device_string(t[i]) +
                    " (the non-finite check has no CUDA kernel yet)");
      }
    }
    int64_t total = 0;
    auto chunks = make_chunks(numels_of(t), std::vector<int64_t>(count, 1), &total);
    std::vector<unsigned char> bad(chunks.size(), 0);
    const Chunk* first = chunks.data();
    for_each_chunk(chunks, total, [&](const Chunk& c) {
      dispatch_param(t[c.tensor].dtype, [&](auto p_tag, auto) {
        using P = decltype(p_tag);
        const P* x = static_cast<const P*>(t[c.tensor].data);
        bad[&c - first] = has_non_finite(x, c.begin, c.end);
      });
    });
    for (size_t k = 0; k < chunks.size(); ++k) {
      if (bad[k]) {
        *first_non_finite = chunks[k].tensor;
        return;
      }
    }
  });
}

int ah4j_tensor_stats(void* const* tensors, int64_t count, int32_t* non_finite, double* sum_sq,
                      double* sum_abs, double* max_abs) {
  return guarded([&] {
    require_lists(count, {tensors, non_finite, sum_sq, sum_abs, max_abs});
    std::vector<TensorView> t = read_params(tensors, count);
    for (int64_t i = 0; i < count; ++i) {
      if (t[i].device != Device::kCpu) {
        fail(i, "tensors: expected a cpu tensor, got " + device_string(t[i]) +
                    " (the statistics pass has no CUDA kernel yet)");
      }
    }
    int64_t total = 0;
    auto chunks = make_chunks(numels_of(t), std::vector<int64_t>(count, 1), &total);
    std::vector<ChunkStats> partial(chunks.size());
    const Chunk* first = chunks.data();
    for_each_chunk(chunks, total, [&](const Chunk& c) {
      dispatch_param(t[c.tensor].dtype, [&](auto p_tag, auto) {
        using P = decltype(p_tag);
        partial[&c - first] = stats_range(static_cast<const P*>(t[c.tensor].data), c.begin, c.end);
      });
    });
    for (int64_t i = 0; i < count; ++i) {
      non_finite[i] = 0;
      sum_sq[i] = sum_abs[i] = max_abs[i] = 0;
    }
    for (size_t k = 0; k < chunks.size(); ++k) {  // chunks of a tensor are consecutive, in order
      const int64_t i = chunks[k].tensor;
      non_finite[i] |= partial[k].non_finite ? 1 : 0;
      sum_sq[i] += partial[k].sum_sq;
      sum_abs[i] += partial[k].sum_abs;
      max_abs[i] = max_abs[i] < partial[k].max_abs ? partial[k].max_abs : max_abs[i];
    }
  });
}

int ah4j_hutchinson_accumulate_(void* const* diags, void* const* zs, void* const* hzs,
                                int64_t count, double scale, int32_t overwrite) {
  return guarded([&] {
    require_lists(count, {diags, zs, hzs});
    std::vector<TensorView> z = read_params(zs, count);
    std::vector<TensorView> hz = read_matching(hzs, "hzs", z, false);
    std::vector<TensorView> d = read_matching(diags, "diags", z, true);
#ifdef AH4J_WITH_CUDA
    if (on_cuda(z)) return cuda::hutchinson(d, z, hz, scale, overwrite != 0);
#endif
    int64_t total = 0;
    auto chunks = make_chunks(numels_of(z), std::vector<int64_t>(count, 1), &total);
    for_each_chunk(chunks, total, [&](const Chunk& c) {
      dispatch_param(z[c.tensor].dtype, [&](auto p_tag, auto s_tag) {
        using P = decltype(p_tag);
        using S = decltype(s_tag);
        const P* zp = static_cast<const P*>(z[c.tensor].data);
        const P* hp = static_cast<const P*>(hz[c.tensor].data);
        S* dp = static_cast<S*>(d[c.tensor].data);
        const S sc = static_cast<S>(scale);
        for (int64_t i = c.begin; i < c.end; ++i) {
          const S term = static_cast<S>(zp[i]) * static_cast<S>(hp[i]) * sc;
          dp[i] = overwrite ? term : dp[i] + term;
        }
      });
    });
  });
}

int ah4j_adahessian_step_(void* const* params, void* const* grads, void* const* hessian_diags,
                          void* const* exp_avgs, void* const* exp_hessian_diag_sqs, int64_t count,
                          const int64_t* block_sizes, const int64_t* steps, const double* hyper) {
  return guarded([&] {
    require_lists(count, {params, grads, hessian_diags, exp_avgs, exp_hessian_diag_sqs,
                          block_sizes, steps, hyper});
    std::vector<TensorView> p = read_params(params, count);
    std::vector<TensorView> g = read_matching(grads, "grads", p, false);
    std::vector<TensorView> m = read_matching(exp_avgs, "exp_avgs", p, true);
    std::vector<TensorView> v = read_matching(exp_hessian_diag_sqs, "exp_hessian_diag_sqs", p, true);
    std::vector<TensorView> d;
    std::vector<bool> d_is_state;
    for (int64_t i = 0; i < count; ++i) {
      d.push_back(read_tensor(hessian_diags[i], "hessian_diags", i));
      const bool is_state = d.back().dtype == state_dtype(p[i].dtype) && d.back().dtype != p[i].dtype;
      check_matches(p[i], d.back(), is_state ? state_dtype(p[i].dtype) : p[i].dtype,
                    "hessian_diags", i);
      d_is_state.push_back(is_state);
    }
    for (int64_t i = 0; i < count; ++i) {
      const int64_t b = block_sizes[i];
      if (b < 1 || (p[i].numel > 0 && p[i].numel % b != 0)) {
        std::ostringstream out;
        out << "block size " << b << " does not divide the parameter's "
            << p[i].numel << " elements (shape " << shape_string(p[i]) << ")";
        fail(i, out.str());
      }
    }
    check_steps(steps, count);
    check_hyper(hyper, count, true);
#ifdef AH4J_WITH_CUDA
    if (on_cuda(p)) return cuda::adahessian(p, g, d, d_is_state, m, v, block_sizes, steps, hyper);
#endif
    int64_t total = 0;
    auto chunks = make_chunks(numels_of(p), std::vector<int64_t>(block_sizes, block_sizes + count), &total);
    for_each_chunk(chunks, total, [&](const Chunk& c) {
      const int64_t i = c.tensor;
      const double* h = hyper + i * AH4J_HP_COUNT;
      dispatch_param(p[i].dtype, [&](auto p_tag, auto s_tag) {
        using P = decltype(p_tag);
        using S = decltype(s_tag);
        const auto s = adahessian_scalars<S>(h[AH4J_HP_LR], h[AH4J_HP_BETA1], h[AH4J_HP_BETA2],
                                             h[AH4J_HP_EPS], h[AH4J_HP_WEIGHT_DECAY],
                                             h[AH4J_HP_HESSIAN_POWER], steps[i]);
        P* pp = static_cast<P*>(p[i].data);
        const P* gp = static_cast<const P*>(g[i].data);
        S* mp = static_cast<S*>(m[i].data);
        S* vp = static_cast<S*>(v[i].data);
        const auto run = [&](auto kind) {
          constexpr Power K = decltype(kind)::value;
          if (d_is_state[i]) {
            adahessian_range<K>(pp, gp, static_cast<const S*>(d[i].data), mp, vp, c.begin, c.end, block_sizes[i], s);
          } else {
            adahessian_range<K>(pp, gp, static_cast<const P*>(d[i].data), mp, vp, c.begin, c.end, block_sizes[i], s);
          }
        };
        switch (power_kind(h[AH4J_HP_HESSIAN_POWER])) {
          case Power::kOne: run(std::integral_constant<Power, Power::kOne>{}); break;
          case Power::kHalf: run(std::integral_constant<Power, Power::kHalf>{}); break;
          default: run(std::integral_constant<Power, Power::kGeneral>{}); break;
        }
      });
    });
  });
}

int ah4j_adam_step_(void* const* params, void* const* grads, void* const* exp_avgs,
                    void* const* exp_avg_sqs, void* const* max_exp_avg_sqs, int64_t count,
                    const int64_t* steps, const double* hyper, const int32_t* flags) {
  return guarded([&] {
    require_lists(count, {params, grads, exp_avgs, exp_avg_sqs, steps, hyper, flags});
    std::vector<TensorView> p = read_params(params, count);
    std::vector<TensorView> g = read_matching(grads, "grads", p, false);
    std::vector<TensorView> m = read_matching(exp_avgs, "exp_avgs", p, true);
    std::vector<TensorView> v = read_matching(exp_avg_sqs, "exp_avg_sqs", p, true);
    std::vector<TensorView> vmax(count);
    for (int64_t i = 0; i < count; ++i) {
      if (flags[i] & AH4J_ADAM_AMSGRAD) {
        if (max_exp_avg_sqs == nullptr) fail(i, "max_exp_avg_sqs: the list is null but the parameter uses amsgrad");
        vmax[i] = read_tensor(max_exp_avg_sqs[i], "max_exp_avg_sqs", i);
        check_matches(p[i], vmax[i], state_dtype(p[i].dtype), "max_exp_avg_sqs", i);
      }
    }
    check_steps(steps, count);
    check_hyper(hyper, count, false);
#ifdef AH4J_WITH_CUDA
    if (on_cuda(p)) return cuda::adam(p, g, m, v, vmax, steps, hyper, flags);
#endif
    int64_t total = 0;
    auto chunks = make_chunks(numels_of(p), std::vector<int64_t>(count, 1), &total);
    for_each_chunk(chunks, total, [&](const Chunk& c) {
      const int64_t i = c.tensor;
      const double* h = hyper + i * AH4J_HP_COUNT;
      dispatch_param(p[i].dtype, [&](auto p_tag, auto s_tag) {
        using P = decltype(p_tag);
        using S = decltype(s_tag);
        const auto s = adam_scalars<S>(h[AH4J_HP_LR], h[AH4J_HP_BETA1], h[AH4J_HP_BETA2],
                                       h[AH4J_HP_EPS], h[AH4J_HP_WEIGHT_DECAY], steps[i],
                                       flags[i] & AH4J_ADAM_AMSGRAD, flags[i] & AH4J_ADAM_MAXIMIZE,
                                       flags[i] & AH4J_ADAM_DECOUPLED_WEIGHT_DECAY);
        adam_range(static_cast<P*>(p[i].data), static_cast<const P*>(g[i].data),
                   static_cast<S*>(m[i].data), static_cast<S*>(v[i].data),
                   (flags[i] & AH4J_ADAM_AMSGRAD) ? static_cast<S*>(vmax[i].data) : nullptr,
                   c.begin, c.end, s);
      });
    });
  });
}

}  // extern "C"
