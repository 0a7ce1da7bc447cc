// The C entry points of the steps (adahessian4j.h): each validates every input first, with the
// same checks for every device, builds one call (calls.h) and hands it to the layer of its
// tensors' device: the CPU loops (cpu/), or, for cuda tensors, the CUDA kernels (cuda/, built with
// -DAH4J_CUDA=ON). Nothing is written before every check has passed.
#include <cmath>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

#include "adahessian4j.h"
#include "calls.h"
#include "chunking.h"
#include "cpu/cpu_steps.h"
#include "cpu/parallel.h"
#include "step_math.h"
#include "tensors.h"
#ifdef AH4J_WITH_CUDA
#include "cuda/cuda_steps.h"
#endif

namespace ah4j {
namespace {

void require_lists(int64_t count, std::initializer_list<const void*> lists) {
  if (count < 0) fail(-1, "count must be >= 0, got " + std::to_string(count));
  if (count == 0) return;
  for (const void* list : lists) {
    if (list == nullptr)
      fail(-1, "a list argument is null while count is " + std::to_string(count));
  }
}

// Reads the first tensor list of a call (`role`: "params", "zs", "tensors"): the list the others
// must match, all of it on one device.
std::vector<TensorView> read_first(void* const* list, const char* role, int64_t count) {
  std::vector<TensorView> views;
  views.reserve(count);
  for (int64_t i = 0; i < count; ++i) {
    views.push_back(read_tensor(list[i], role, i));
    check_param(views.back(), role, i);
    check_same_device(views.front(), views.back(), role, i);
  }
  return views;
}

#ifdef AH4J_WITH_CUDA
// Whether a call's tensors (all on one device, checked) are cuda tensors.
bool on_cuda(const std::vector<TensorView>& first) {
  return !first.empty() && first.front().device == Device::kCuda;
}
#endif

// A list that matches the first one tensor for tensor: shape and device, and the first's dtype
// or (state) its state dtype.
std::vector<TensorView> read_matching(void* const* list, const char* role,
                                      const std::vector<TensorView>& first, bool state) {
  std::vector<TensorView> views;
  views.reserve(first.size());
  for (size_t i = 0; i < first.size(); ++i) {
    const int64_t index = static_cast<int64_t>(i);
    views.push_back(read_tensor(list[i], role, index));
    check_matches(first[i], views.back(), state ? state_dtype(first[i].dtype) : first[i].dtype,
                  role, index);
  }
  return views;
}

// Tensors that only the CPU has a pass for (the statistics, the non-finite check).
void require_cpu(const std::vector<TensorView>& tensors, const char* pass) {
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (tensors[i].device != Device::kCpu) {
      fail(static_cast<int64_t>(i), "tensors: expected a cpu tensor, got " +
                                        device_string(tensors[i]) + " (" + pass +
                                        " has no CUDA kernel yet)");
    }
  }
}

void check_hyper(const double* hyper, int64_t count, bool adahessian) {
  static const char* names[] = {"lr", "beta1", "beta2", "eps", "weight_decay", "hessian_power"};
  static_assert(sizeof names / sizeof names[0] == AH4J_HP_COUNT, "a name per column");
  for (int64_t i = 0; i < count; ++i) {
    const double* row = hyper + i * AH4J_HP_COUNT;
    const int columns = adahessian ? AH4J_HP_COUNT : AH4J_HP_HESSIAN_POWER;
    for (int c = 0; c < columns; ++c) {
      if (!std::isfinite(row[c])) {
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

void check_block_sizes(const int64_t* block_sizes, const std::vector<TensorView>& params) {
  for (size_t k = 0; k < params.size(); ++k) {
    const int64_t i = static_cast<int64_t>(k);
    const int64_t b = block_sizes[i];
    if (b < 1 || (params[k].numel > 0 && params[k].numel % b != 0)) {
      std::ostringstream out;
      out << "block size " << b << " does not divide the parameter's " << params[k].numel
          << " elements (shape " << shape_string(params[k]) << ")";
      fail(i, out.str());
    }
  }
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
    RademacherCall call;
    call.zs = read_first(zs, "zs", count);
    for (int64_t i = 0; i < count; ++i) {
      call.streams.push_back(probe_stream(seed, counter, param_ids[i]));
    }
#ifdef AH4J_WITH_CUDA
    if (on_cuda(call.zs)) return cuda::rademacher(call);
#endif
    cpu::rademacher(call);
  });
}

int ah4j_find_non_finite(void* const* tensors, int64_t count, int64_t* first_non_finite) {
  return guarded([&] {
    require_lists(count, {tensors, first_non_finite});
    if (first_non_finite == nullptr) fail(-1, "first_non_finite is null");
    *first_non_finite = -1;
    const std::vector<TensorView> t = read_first(tensors, "tensors", count);
    require_cpu(t, "the non-finite check");
    *first_non_finite = cpu::find_non_finite(t);
  });
}

int ah4j_tensor_stats(void* const* tensors, int64_t count, int32_t* non_finite, double* sum_sq,
                      double* sum_abs, double* max_abs) {
  return guarded([&] {
    require_lists(count, {tensors, non_finite, sum_sq});  // sum_abs, max_abs: may be null
    const std::vector<TensorView> t = read_first(tensors, "tensors", count);
    require_cpu(t, "the statistics pass");
    cpu::tensor_stats(t, non_finite, sum_sq, sum_abs, max_abs);
  });
}

int ah4j_hutchinson_accumulate_(void* const* diags, void* const* zs, void* const* hzs,
                                int64_t count, double scale, int32_t overwrite) {
  return guarded([&] {
    require_lists(count, {diags, zs, hzs});
    HutchinsonCall call;
    call.zs = read_first(zs, "zs", count);
    call.hzs = read_matching(hzs, "hzs", call.zs, false);
    call.diags = read_matching(diags, "diags", call.zs, true);
    call.scale = scale;
    call.overwrite = overwrite != 0;
#ifdef AH4J_WITH_CUDA
    if (on_cuda(call.zs)) return cuda::hutchinson(call);
#endif
    cpu::hutchinson(call);
  });
}

int ah4j_adahessian_step_(void* const* params, void* const* grads, void* const* hessian_diags,
                          void* const* exp_avgs, void* const* exp_hessian_diag_sqs, int64_t count,
                          const int64_t* block_sizes, const int64_t* steps, const double* hyper) {
  return guarded([&] {
    require_lists(count, {params, grads, hessian_diags, exp_avgs, exp_hessian_diag_sqs, block_sizes,
                          steps, hyper});
    AdaHessianCall call;
    call.params = read_first(params, "params", count);
    const std::vector<TensorView>& p = call.params;
    call.grads = read_matching(grads, "grads", p, false);
    call.exp_avgs = read_matching(exp_avgs, "exp_avgs", p, true);
    call.exp_hessian_diag_sqs =
        read_matching(exp_hessian_diag_sqs, "exp_hessian_diag_sqs", p, true);
    // The diagonal: the parameter's dtype or its state dtype (what Hutchinson sums in).
    for (int64_t i = 0; i < count; ++i) {
      const TensorView d = read_tensor(hessian_diags[i], "hessian_diags", i);
      const bool is_state = d.dtype == state_dtype(p[i].dtype) && d.dtype != p[i].dtype;
      check_matches(p[i], d, is_state ? state_dtype(p[i].dtype) : p[i].dtype, "hessian_diags", i);
      call.hessian_diags.push_back(d);
      call.diag_is_state.push_back(is_state);
    }
    check_block_sizes(block_sizes, p);
    check_steps(steps, count);
    check_hyper(hyper, count, true);
    call.block_sizes = block_sizes;
    call.steps = steps;
    call.hyper = hyper;
#ifdef AH4J_WITH_CUDA
    if (on_cuda(p)) return cuda::adahessian(call);
#endif
    cpu::adahessian(call);
  });
}

int ah4j_adam_step_(void* const* params, void* const* grads, void* const* exp_avgs,
                    void* const* exp_avg_sqs, void* const* max_exp_avg_sqs, int64_t count,
                    const int64_t* steps, const double* hyper, const int32_t* flags) {
  return guarded([&] {
    require_lists(count, {params, grads, exp_avgs, exp_avg_sqs, steps, hyper, flags});
    AdamCall call;
    call.params = read_first(params, "params", count);
    const std::vector<TensorView>& p = call.params;
    call.grads = read_matching(grads, "grads", p, false);
    call.exp_avgs = read_matching(exp_avgs, "exp_avgs", p, true);
    call.exp_avg_sqs = read_matching(exp_avg_sqs, "exp_avg_sqs", p, true);
    call.max_exp_avg_sqs.resize(count);  // empty views for parameters without amsgrad
    for (int64_t i = 0; i < count; ++i) {
      if (flags[i] & AH4J_ADAM_AMSGRAD) {
        if (max_exp_avg_sqs == nullptr) {
          fail(i, "max_exp_avg_sqs: the list is null but the parameter uses amsgrad");
        }
        TensorView& vmax = call.max_exp_avg_sqs[i];
        vmax = read_tensor(max_exp_avg_sqs[i], "max_exp_avg_sqs", i);
        check_matches(p[i], vmax, state_dtype(p[i].dtype), "max_exp_avg_sqs", i);
      }
    }
    check_steps(steps, count);
    check_hyper(hyper, count, false);
    call.steps = steps;
    call.hyper = hyper;
    call.flags = flags;
#ifdef AH4J_WITH_CUDA
    if (on_cuda(p)) return cuda::adam(call);
#endif
    cpu::adam(call);
  });
}

int ah4j_step_bytes_only_(void* const* params, void* const* grads, void* const* exp_avgs,
                          void* const* exp_avg_sqs, int64_t count) {
  return guarded([&] {
    require_lists(count, {params, grads, exp_avgs, exp_avg_sqs});
    const std::vector<TensorView> p = read_first(params, "params", count);
    require_cpu(p, "the memory-limit kernel");
    const std::vector<TensorView> g = read_matching(grads, "grads", p, false);
    const std::vector<TensorView> m = read_matching(exp_avgs, "exp_avgs", p, true);
    const std::vector<TensorView> v = read_matching(exp_avg_sqs, "exp_avg_sqs", p, true);
    cpu::step_bytes_only(p, g, m, v);
  });
}

}  // extern "C"
