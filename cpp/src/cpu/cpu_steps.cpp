// The CPU loops of every entry point (cpu_steps.h). The per-element math is step_math.h's, shared
// with the CUDA kernels; each loop runs over chunks of all of a call's tensors (parallel.h), which
// never split an averaging group or a probe word, and gives the same bits for any thread count
// and instruction set.
#include "cpu_steps.h"

#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "../chunking.h"
#include "../step_math.h"
#include "adahessian4j.h"
#include "parallel.h"

namespace ah4j {
namespace cpu {
namespace {

// dispatch_param (../tensors.h) with the CPU's 16-bit types.
template <typename F>
void dispatch_cpu(DType dtype, F&& body) {
  dispatch_param<c10::Half, c10::BFloat16>(dtype, std::forward<F>(body));
}

std::vector<int64_t> numels_of(const std::vector<TensorView>& views) {
  std::vector<int64_t> numels;
  for (const auto& v : views) numels.push_back(v.numel);
  return numels;
}

// Chunks of all `views`, none splitting a run of granule elements (1: any split).
std::vector<Chunk> chunks_of(const std::vector<TensorView>& views, int64_t granule,
                             int64_t* total) {
  return make_chunks(numels_of(views), std::vector<int64_t>(views.size(), granule), total);
}

// The means of |d| over 8 consecutive groups of 9 float32 elements (3x3 kernels; d[0, 72)),
// spread to out[0, 72): each group summed in element order in double from 0, divided by 9 and
// rounded to float, as the lanes loop below does, so the bits are the same. The lanes loop reads
// with a stride of 9; here 8 rows of 8 (row l = d[9l, 9l + 8)) are transposed in registers and the
// 9th elements gathered, then the spread is 4 permutes. Worth it with AVX-512 only (JMH,
// ResNet-20's shapes, 1 thread: the fused step 0.253 -> 0.133 ms; a micro-benchmark of the loop
// alone: 1.4-1.8x slower with AVX2 or SSE2, where the 512-bit vectors are emulated), so it runs
// where the AVX-512 loops do.
typedef double F64x8 __attribute__((vector_size(64)));
typedef int64_t I64x8 __attribute__((vector_size(64)));
typedef float F32x8 __attribute__((vector_size(32)));
typedef float F32x16 __attribute__((vector_size(64)));
typedef int32_t I32x16 __attribute__((vector_size(64)));

inline __attribute__((always_inline)) void means_of_8_groups_of_9(const float* __restrict d,
                                                                  float* __restrict out) {
  F64x8 r[8];
  for (int l = 0; l < 8; ++l) {
    F32x8 f;
    std::memcpy(&f, d + 9 * l, sizeof f);
    const F64x8 x = __builtin_convertvector(f, F64x8);
    I64x8 bits;
    std::memcpy(&bits, &x, sizeof bits);
    bits &= 0x7fffffffffffffffLL;  // |x|, as std::abs
    std::memcpy(&r[l], &bits, sizeof bits);
  }
  // Transpose in three rounds of two-input shuffles: c[j][l] = |d[9l + j]|.
  const I64x8 lo1 = {0, 8, 2, 10, 4, 12, 6, 14}, hi1 = {1, 9, 3, 11, 5, 13, 7, 15};
  const I64x8 lo2 = {0, 1, 8, 9, 4, 5, 12, 13}, hi2 = {2, 3, 10, 11, 6, 7, 14, 15};
  const I64x8 lo4 = {0, 1, 2, 3, 8, 9, 10, 11}, hi4 = {4, 5, 6, 7, 12, 13, 14, 15};
  F64x8 t[8], u[8], c[8];
  for (int k = 0; k < 8; k += 2) {
    t[k] = __builtin_shuffle(r[k], r[k + 1], lo1);
    t[k + 1] = __builtin_shuffle(r[k], r[k + 1], hi1);
  }
  for (int k : {0, 1, 4, 5}) {
    u[k] = __builtin_shuffle(t[k], t[k + 2], lo2);
    u[k + 2] = __builtin_shuffle(t[k], t[k + 2], hi2);
  }
  for (int k = 0; k < 4; ++k) {
    c[k] = __builtin_shuffle(u[k], u[k + 4], lo4);
    c[k + 4] = __builtin_shuffle(u[k], u[k + 4], hi4);
  }
  F64x8 sum = {};
  for (int j = 0; j < 8; ++j) sum += c[j];
  F64x8 ninth;
  for (int l = 0; l < 8; ++l) ninth[l] = std::abs(static_cast<double>(d[9 * l + 8]));
  sum += ninth;
  const F32x8 mean = __builtin_convertvector(sum / 9.0, F32x8);
  const F32x16 twice =
      __builtin_shufflevector(mean, mean, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7);
  const I32x16 spread[4] = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1},
                            {1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3},
                            {3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5},
                            {5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 7}};
  for (int q = 0; q < 4; ++q) {
    const F32x16 o = __builtin_shuffle(twice, spread[q]);
    std::memcpy(out + 16 * q, &o, sizeof o);
  }
  for (int k = 64; k < 72; ++k) out[k] = mean[7];
}

// One chunk [begin, end) of an AdaHessian parameter whose |D| is averaged over groups of
// `avg_group` consecutive elements (1: no averaging). kWide: the AVX-512 loops run (see above).
template <bool kWide, Power K, typename P, typename S, typename D>
void adahessian_range(P* __restrict p, const P* __restrict g, const D* __restrict d,
                      S* __restrict m, S* __restrict v, int64_t begin, int64_t end,
                      int64_t avg_group,
                      const AdaHessianScalars<S> s) {  // by value: stores cannot alias it
  if (avg_group == 1) {
    for (int64_t i = begin; i < end; ++i) {
      S pi = static_cast<S>(p[i]), mi = m[i], vi = v[i];
      adahessian_element<K, S>(pi, static_cast<S>(g[i]), std::abs(static_cast<S>(d[i])), mi, vi, s);
      p[i] = static_cast<P>(pi);
      m[i] = mi;
      v[i] = vi;
    }
    return;
  }
  // Averaging in two passes over the chunk, so that both vectorise and the bits stay those of the
  // one-group-at-a-time loop: (1) the group means of |D|, eight groups at a time in eight lanes,
  // each lane summing its group's elements in order in double as that loop did; spread to one
  // value per element in a scratch buffer of the chunk's length; (2) the element update without
  // averaging, reading the means from the buffer.
  thread_local std::vector<S> scratch;
  const int64_t length = end - begin;
  if (static_cast<int64_t>(scratch.size()) < length) scratch.resize(static_cast<size_t>(length));
  S* __restrict dbar = scratch.data();
  constexpr int kLanes = 8;
  const double count = static_cast<double>(avg_group);
  int64_t b = begin;
  if constexpr (kWide && std::is_same_v<D, float> && std::is_same_v<S, float>) {
    if (avg_group == 9) {
      for (; b + 72 <= end; b += 72) means_of_8_groups_of_9(d + b, dbar + (b - begin));
    }
  }
  for (; b + kLanes * avg_group <= end; b += kLanes * avg_group) {
    double sum[kLanes] = {};
    for (int64_t j = 0; j < avg_group; ++j) {
      for (int l = 0; l < kLanes; ++l) {
        sum[l] += std::abs(static_cast<double>(static_cast<S>(d[b + l * avg_group + j])));
      }
    }
    for (int l = 0; l < kLanes; ++l) {
      const S mean = static_cast<S>(sum[l] / count);
      for (int64_t j = 0; j < avg_group; ++j) dbar[b - begin + l * avg_group + j] = mean;
    }
  }
  for (; b < end; b += avg_group) {
    double sum = 0;
    for (int64_t i = b; i < b + avg_group; ++i)
      sum += std::abs(static_cast<double>(static_cast<S>(d[i])));
    const S mean = static_cast<S>(sum / count);
    for (int64_t i = b; i < b + avg_group; ++i) dbar[i - begin] = mean;
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

constexpr int kLanes = 32;

// Rows of 32 elements in x[begin, end) (whole rows) into lanes of double: lane j adds |x|^2, and
// (kAbs) |x| and (kMax) the max of |x|, of each row's element j, in order. Independent lanes:
// the loops vectorise without reassociating a sum, so every instruction set gives the same bits.
template <bool kAbs, bool kMax, typename P>
inline void add_rows_in_double(const P* __restrict x, int64_t begin, int64_t end,
                               double* __restrict sq, double* __restrict ab,
                               double* __restrict mx) {
  for (int64_t i = begin; i < end; i += kLanes) {
    double a[kLanes];
    for (int j = 0; j < kLanes; ++j) a[j] = std::abs(static_cast<double>(x[i + j]));
    for (int j = 0; j < kLanes; ++j) sq[j] += a[j] * a[j];
    if constexpr (kAbs) {
      for (int j = 0; j < kLanes; ++j) ab[j] += a[j];
    }
    if constexpr (kMax) {
      for (int j = 0; j < kLanes; ++j) mx[j] = mx[j] < a[j] ? a[j] : mx[j];
    }
  }
}

// A chunk's statistics from its lanes, combined in lane order, then the elements of its tail
// x[tail, end) (fewer than 32) in order, in double. The max lanes (M: float or double) convert
// exactly. What kAbs / kMax skip stays 0.
template <bool kAbs, bool kMax, typename P, typename M>
ChunkStats combine_lanes(const double* sq, const double* ab, const M* mx, const P* x, int64_t tail,
                         int64_t end) {
  ChunkStats s;
  for (int j = 0; j < kLanes; ++j) {
    s.sum_sq += sq[j];
    s.sum_abs += ab[j];
    const double m = mx[j];
    s.max_abs = s.max_abs < m ? m : s.max_abs;
  }
  for (int64_t i = tail; i < end; ++i) {
    const double a = std::abs(static_cast<double>(x[i]));
    s.sum_sq += a * a;
    if constexpr (kAbs) s.sum_abs += a;
    if constexpr (kMax) s.max_abs = s.max_abs < a ? a : s.max_abs;
  }
  return s;
}

// Sums of x^2 and |x| and the max of |x| over x[begin, end) of float64: the chunk's whole rows
// in double lanes (add_rows_in_double), then its tail. A sum of squares in double is non-finite
// when some element is NaN or infinite, or when it overflowed; an exponent test settles which.
// kAbs / kMax: whether to compute the sum and the max of |x| (a gradients' pass needs the max for
// inf-norm clipping only, the sum never); what is skipped stays 0.
template <bool kAbs, bool kMax>
ChunkStats stats_range(const double* __restrict x, int64_t begin, int64_t end) {
  double sq[kLanes] = {}, ab[kLanes] = {}, mx[kLanes] = {};
  const int64_t tail = begin + (end - begin) / kLanes * kLanes;
  add_rows_in_double<kAbs, kMax>(x, begin, tail, sq, ab, mx);
  ChunkStats s = combine_lanes<kAbs, kMax>(sq, ab, mx, x, tail, end);
  s.non_finite = !std::isfinite(s.sum_sq) && has_non_finite(x, begin, end);
  return s;
}

// Rows of 32 float32 elements per block of the float32 pass. Within a block each lane sums at
// most kBlockRows squares (and |x|) in float; x^2 rounds with relative error at most u = 2^-24,
// and each of the sum's additions of non-negative terms adds at most u, so a lane's block sum is
// within gamma_K = K u / (1 - K u) of its exact value (Higham, Accuracy and Stability of Numerical
// Algorithms, 4.2): for K = 16, 9.54e-7. The block sums then go into double lanes, whose roundings
// (2^-53 per addition) add about 1e-16 per block, chunk and lane: negligible, so every sum of a
// float32 tensor is within about 9.6e-7 of exact, relative (cpp/test/host_test.cpp checks it).
constexpr int kBlockRows = 16;

// Sums of x^2 and |x| and the max of |x| over x[begin, end) of float32 (ah4j_tensor_stats): blocks
// of kBlockRows rows of 32 (the last one shorter) summed in 32 float lanes, lane j taking the row's
// element j in order, each block's lane sums then added to lane j of 32 double lanes; the max of
// |x| in float lanes (exact); then combine_lanes. A float sum of finite elements overflows once
// it passes 3.4e38 (an element from 1.8e19): a block whose float sums are not all finite is summed
// again, in double (add_rows_in_double), where float elements cannot overflow (3.4e38^2 is
// 1.2e77), so the chunk's sum of squares is non-finite exactly when an element is NaN or infinite.
// The float lanes take about a third of the double lanes' instructions (no conversions to double).
// kAbs / kMax as for float64.
template <bool kAbs, bool kMax>
ChunkStats stats_range(const float* __restrict x, int64_t begin, int64_t end) {
  double sq[kLanes] = {}, ab[kLanes] = {};
  float mx[kLanes] = {};
  const int64_t tail = begin + (end - begin) / kLanes * kLanes;
  for (int64_t i = begin; i < tail; i += kBlockRows * kLanes) {
    const int64_t block_end = std::min<int64_t>(tail, i + kBlockRows * kLanes);
    float bsq[kLanes] = {}, bab[kLanes] = {};
    for (int64_t r = i; r < block_end; r += kLanes) {
      for (int j = 0; j < kLanes; ++j) {
        const float v = x[r + j], a = std::abs(v);
        bsq[j] += v * v;
        if constexpr (kAbs) bab[j] += a;
        if constexpr (kMax) mx[j] = mx[j] < a ? a : mx[j];
      }
    }
    // bsq's finiteness is also bab's: an element below 1.8e19 keeps 16 of them below 3e20.
    if (has_non_finite(bsq, 0, kLanes)) {
      add_rows_in_double<kAbs, false>(x, i, block_end, sq, ab, nullptr);
    } else {
      for (int j = 0; j < kLanes; ++j) sq[j] += bsq[j];
      if constexpr (kAbs) {
        for (int j = 0; j < kLanes; ++j) ab[j] += bab[j];
      }
    }
  }
  ChunkStats s = combine_lanes<kAbs, kMax>(sq, ab, mx, x, tail, end);
  s.non_finite = !std::isfinite(s.sum_sq);
  return s;
}

// float16 and bfloat16: element by element (their sums cannot overflow either), all statistics.
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

template <bool kAbs, bool kMax, typename P>
ChunkStats chunk_stats(const P* x, int64_t begin, int64_t end) {
  if constexpr (std::is_same_v<P, c10::Half> || std::is_same_v<P, c10::BFloat16>) {
    return stats_range_half(x, begin, end);
  } else {
    return stats_range<kAbs, kMax>(x, begin, end);
  }
}

// Last chunk first (for_each_chunk_last_first): the step that follows the pass finds the
// gradients it starts with in cache. The partial sums are combined in chunk order afterwards.
template <bool kAbs, bool kMax>
void stats_chunks(const std::vector<TensorView>& tensors, const std::vector<Chunk>& chunks,
                  int64_t total, std::vector<ChunkStats>& partial) {
  const Chunk* first = chunks.data();
  for_each_chunk_last_first(chunks, total, [&](const Chunk& c) {
    dispatch_cpu(tensors[c.tensor].dtype, [&](auto p_tag, auto) {
      using P = typename decltype(p_tag)::type;
      partial[&c - first] =
          chunk_stats<kAbs, kMax>(static_cast<const P*>(tensors[c.tensor].data), c.begin, c.end);
    });
  });
}

}  // namespace

void rademacher(const RademacherCall& call) {
  const auto& zs = call.zs;
  int64_t total = 0;
  const auto chunks = chunks_of(zs, kProbeWordBits, &total);
  for_each_chunk(chunks, total, [&](const Chunk& c) {
    const TensorView& z = zs[c.tensor];
    dispatch_cpu(z.dtype, [&](auto p_tag, auto) {
      using P = typename decltype(p_tag)::type;
      P* out = static_cast<P*>(z.data);
      const auto& table = SignTable<P>::get();
      for (int64_t w = c.begin / kProbeWordBits; w * kProbeWordBits < c.end; ++w) {
        const uint64_t word = probe_word(call.streams[c.tensor], w);
        const int64_t first = w * kProbeWordBits;
        const int64_t last = std::min(c.end, first + kProbeWordBits);
        if (last - first == kProbeWordBits) {
          // Whole word: copy the signs of each byte from the table (8 elements at a time).
          for (int byte = 0; byte < 8; ++byte) {
            std::memcpy(out + first + 8 * byte, table.signs[(word >> (8 * byte)) & 0xff],
                        8 * sizeof(P));
          }
        } else {
          for (int64_t e = first; e < last; ++e) out[e] = table.signs[(word >> (e - first)) & 1][0];
        }
      }
    });
  });
}

void hutchinson(const HutchinsonCall& call) {
  const auto& z = call.zs;
  const auto& hz = call.hzs;
  const auto& d = call.diags;
  const bool overwrite = call.overwrite;
  int64_t total = 0;
  const auto chunks = chunks_of(z, 1, &total);
  for_each_chunk(chunks, total, [&](const Chunk& c) {
    dispatch_cpu(z[c.tensor].dtype, [&](auto p_tag, auto s_tag) {
      using P = typename decltype(p_tag)::type;
      using S = typename decltype(s_tag)::type;
      const P* zp = static_cast<const P*>(z[c.tensor].data);
      const P* hp = static_cast<const P*>(hz[c.tensor].data);
      S* dp = static_cast<S*>(d[c.tensor].data);
      const S sc = static_cast<S>(call.scale);
      for (int64_t i = c.begin; i < c.end; ++i) {
        const S term = static_cast<S>(zp[i]) * static_cast<S>(hp[i]) * sc;
        dp[i] = overwrite ? term : dp[i] + term;
      }
    });
  });
}

void adahessian(const AdaHessianCall& call) {
  const auto& p = call.params;
  const auto& g = call.grads;
  const auto& d = call.hessian_diags;
  const auto& m = call.exp_avgs;
  const auto& v = call.exp_hessian_diag_sqs;
  const int64_t* block_sizes = call.block_sizes;
  const int64_t* steps = call.steps;
  const double* hyper = call.hyper;
  int64_t total = 0;
  const auto chunks =
      make_chunks(numels_of(p), std::vector<int64_t>(block_sizes, block_sizes + p.size()), &total);
  // Either value gives the same bits; it picks the faster code (means_of_8_groups_of_9).
  const bool wide = static_cast<Isa>(isa_setting().load(std::memory_order_relaxed)) == Isa::kAvx512;
  for_each_chunk(chunks, total, [&](const Chunk& c) {
    const int64_t i = c.tensor;
    const double* h = hyper + i * AH4J_HP_COUNT;
    dispatch_cpu(p[i].dtype, [&](auto p_tag, auto s_tag) {
      using P = typename decltype(p_tag)::type;
      using S = typename decltype(s_tag)::type;
      const auto s =
          adahessian_scalars<S>(h[AH4J_HP_LR], h[AH4J_HP_BETA1], h[AH4J_HP_BETA2], h[AH4J_HP_EPS],
                                h[AH4J_HP_WEIGHT_DECAY], h[AH4J_HP_HESSIAN_POWER], steps[i]);
      P* pp = static_cast<P*>(p[i].data);
      const P* gp = static_cast<const P*>(g[i].data);
      S* mp = static_cast<S*>(m[i].data);
      S* vp = static_cast<S*>(v[i].data);
      const auto run_with = [&](auto kind, auto wide_tag) {
        constexpr Power K = decltype(kind)::value;
        constexpr bool kWide = decltype(wide_tag)::value;
        if (call.diag_is_state[i]) {
          adahessian_range<kWide, K>(pp, gp, static_cast<const S*>(d[i].data), mp, vp, c.begin,
                                     c.end, block_sizes[i], s);
        } else {
          adahessian_range<kWide, K>(pp, gp, static_cast<const P*>(d[i].data), mp, vp, c.begin,
                                     c.end, block_sizes[i], s);
        }
      };
      const auto run = [&](auto kind) {
        if (wide) {
          run_with(kind, std::true_type{});
        } else {
          run_with(kind, std::false_type{});
        }
      };
      switch (power_kind(h[AH4J_HP_HESSIAN_POWER])) {
        case Power::kOne: run(std::integral_constant<Power, Power::kOne>{}); break;
        case Power::kHalf: run(std::integral_constant<Power, Power::kHalf>{}); break;
        default: run(std::integral_constant<Power, Power::kGeneral>{}); break;
      }
    });
  });
}

void adam(const AdamCall& call) {
  const auto& p = call.params;
  const auto& g = call.grads;
  const auto& m = call.exp_avgs;
  const auto& v = call.exp_avg_sqs;
  const auto& vmax = call.max_exp_avg_sqs;
  const int32_t* flags = call.flags;
  int64_t total = 0;
  const auto chunks = chunks_of(p, 1, &total);
  for_each_chunk(chunks, total, [&](const Chunk& c) {
    const int64_t i = c.tensor;
    const double* h = call.hyper + i * AH4J_HP_COUNT;
    dispatch_cpu(p[i].dtype, [&](auto p_tag, auto s_tag) {
      using P = typename decltype(p_tag)::type;
      using S = typename decltype(s_tag)::type;
      const auto s = adam_scalars<S>(h[AH4J_HP_LR], h[AH4J_HP_BETA1], h[AH4J_HP_BETA2],
                                     h[AH4J_HP_EPS], h[AH4J_HP_WEIGHT_DECAY], call.steps[i],
                                     flags[i] & AH4J_ADAM_AMSGRAD, flags[i] & AH4J_ADAM_MAXIMIZE,
                                     flags[i] & AH4J_ADAM_DECOUPLED_WEIGHT_DECAY);
      adam_range(static_cast<P*>(p[i].data), static_cast<const P*>(g[i].data),
                 static_cast<S*>(m[i].data), static_cast<S*>(v[i].data),
                 (flags[i] & AH4J_ADAM_AMSGRAD) ? static_cast<S*>(vmax[i].data) : nullptr, c.begin,
                 c.end, s);
    });
  });
}

void tensor_stats(const std::vector<TensorView>& tensors, int32_t* non_finite, double* sum_sq,
                  double* sum_abs, double* max_abs) {
  int64_t total = 0;
  const auto chunks = chunks_of(tensors, 1, &total);
  std::vector<ChunkStats> partial(chunks.size());
  if (sum_abs && max_abs) {
    stats_chunks<true, true>(tensors, chunks, total, partial);
  } else if (sum_abs) {
    stats_chunks<true, false>(tensors, chunks, total, partial);
  } else if (max_abs) {
    stats_chunks<false, true>(tensors, chunks, total, partial);
  } else {
    stats_chunks<false, false>(tensors, chunks, total, partial);
  }
  for (size_t i = 0; i < tensors.size(); ++i) {
    non_finite[i] = 0;
    sum_sq[i] = 0;
    if (sum_abs) sum_abs[i] = 0;
    if (max_abs) max_abs[i] = 0;
  }
  for (size_t k = 0; k < chunks.size(); ++k) {  // chunks of a tensor are consecutive, in order
    const int64_t i = chunks[k].tensor;
    non_finite[i] |= partial[k].non_finite ? 1 : 0;
    sum_sq[i] += partial[k].sum_sq;
    if (sum_abs) sum_abs[i] += partial[k].sum_abs;
    if (max_abs) max_abs[i] = max_abs[i] < partial[k].max_abs ? partial[k].max_abs : max_abs[i];
  }
}

int64_t find_non_finite(const std::vector<TensorView>& tensors) {
  int64_t total = 0;
  const auto chunks = chunks_of(tensors, 1, &total);
  std::vector<unsigned char> bad(chunks.size(), 0);
  const Chunk* first = chunks.data();
  for_each_chunk(chunks, total, [&](const Chunk& c) {
    dispatch_cpu(tensors[c.tensor].dtype, [&](auto p_tag, auto) {
      using P = typename decltype(p_tag)::type;
      const P* x = static_cast<const P*>(tensors[c.tensor].data);
      bad[&c - first] = has_non_finite(x, c.begin, c.end);
    });
  });
  for (size_t k = 0; k < chunks.size(); ++k) {
    if (bad[k]) return chunks[k].tensor;
  }
  return -1;
}

void step_bytes_only(const std::vector<TensorView>& p, const std::vector<TensorView>& g,
                     const std::vector<TensorView>& m, const std::vector<TensorView>& v) {
  int64_t total = 0;
  const auto chunks = chunks_of(p, 1, &total);
  for_each_chunk(chunks, total, [&](const Chunk& c) {
    const int64_t i = c.tensor;
    dispatch_cpu(p[i].dtype, [&](auto p_tag, auto s_tag) {
      using P = typename decltype(p_tag)::type;
      using S = typename decltype(s_tag)::type;
      P* __restrict pp = static_cast<P*>(p[i].data);
      const P* __restrict gp = static_cast<const P*>(g[i].data);
      S* __restrict mp = static_cast<S*>(m[i].data);
      S* __restrict vp = static_cast<S*>(v[i].data);
      for (int64_t e = c.begin; e < c.end; ++e) {
        const S ge = static_cast<S>(gp[e]);
        pp[e] = static_cast<P>(ge - static_cast<S>(pp[e]));
        mp[e] = ge - mp[e];
        vp[e] = ge - vp[e];
      }
    });
  });
}

}  // namespace cpu
}  // namespace ah4j
