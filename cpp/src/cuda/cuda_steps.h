// The CUDA side of every entry point (built with -DAH4J_CUDA=ON). The entry points in
// cpu_steps.cpp validate all inputs first, with the same checks for every device, and call these
// only for cuda tensors, all on one device. Each launches its kernels, multi-tensor, on libtorch's
// current stream of that device, and returns without waiting for them.
#pragma once

#include <cstdint>
#include <vector>

#include "../tensors.h"

namespace ah4j {
namespace cuda {

// zs[i] = Rademacher probes of the counter-based stream streams[i] (step_math.h's probe_word).
void rademacher(const std::vector<TensorView>& zs, const std::vector<uint64_t>& streams);

// diags[i] = (overwrite ? 0 : diags[i]) + scale * zs[i] * hzs[i].
void hutchinson(const std::vector<TensorView>& diags, const std::vector<TensorView>& zs,
                const std::vector<TensorView>& hzs, double scale, bool overwrite);

// The AdaHessian step; d_is_state[i]: the diagonal has the state dtype, else the param's.
void adahessian(const std::vector<TensorView>& p, const std::vector<TensorView>& g,
                const std::vector<TensorView>& d, const std::vector<bool>& d_is_state,
                const std::vector<TensorView>& m, const std::vector<TensorView>& v,
                const int64_t* block_sizes, const int64_t* steps, const double* hyper);

// The Adam/AdamW step; vmax[i] is read only for parameters with AH4J_ADAM_AMSGRAD.
void adam(const std::vector<TensorView>& p, const std::vector<TensorView>& g,
          const std::vector<TensorView>& m, const std::vector<TensorView>& v,
          const std::vector<TensorView>& vmax, const int64_t* steps, const double* hyper,
          const int32_t* flags);

}  // namespace cuda
}  // namespace ah4j
