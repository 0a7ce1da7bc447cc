// The calls the C entry points (entry_points.cpp) hand to a device layer, cpu/ or cuda/, once
// every input has been checked: the tensors read (all on one device, of matching shapes and
// dtypes), the per-parameter arrays borrowed from the caller. Both layers take the same calls.
#pragma once

#include <cstdint>
#include <vector>

#include "tensors.h"

namespace ah4j {

// zs[i] = Rademacher probes of the counter-based stream streams[i] (step_math.h's probe_word).
struct RademacherCall {
  std::vector<TensorView> zs;
  std::vector<uint64_t> streams;
};

// diags[i] = (overwrite ? 0 : diags[i]) + scale * zs[i] * hzs[i]; diags have the state dtype.
struct HutchinsonCall {
  std::vector<TensorView> diags, zs, hzs;
  double scale = 0;
  bool overwrite = false;
};

// The AdaHessian step of params.size() parameters. hessian_diags[i] has the state dtype where
// diag_is_state[i], else the param's. Parameter i averages |D| over groups of block_sizes[i]
// elements (1: no averaging); hyper is the row-major double[count * AH4J_HP_COUNT] table.
struct AdaHessianCall {
  std::vector<TensorView> params, grads, hessian_diags, exp_avgs, exp_hessian_diag_sqs;
  std::vector<bool> diag_is_state;
  const int64_t* block_sizes = nullptr;
  const int64_t* steps = nullptr;
  const double* hyper = nullptr;
};

// The Adam/AdamW step; max_exp_avg_sqs[i] is read only for parameters with AH4J_ADAM_AMSGRAD
// (else it is an empty view).
struct AdamCall {
  std::vector<TensorView> params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs;
  const int64_t* steps = nullptr;
  const double* hyper = nullptr;
  const int32_t* flags = nullptr;
};

}  // namespace ah4j
