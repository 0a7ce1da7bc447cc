// The CUDA kernel layer (built with -DAH4J_CUDA=ON): the CUDA side of every entry point, with the
// signatures of the CPU layer's (../cpu/cpu_steps.h). The entry points (../entry_points.cpp)
// validate all inputs first, with the same checks for every device, and call these only for cuda
// tensors, all on one device. Each launches its kernels, multi-tensor, on libtorch's current
// stream of that device, and returns without waiting for them.
#pragma once

#include "../calls.h"

namespace ah4j {
namespace cuda {

void rademacher(const RademacherCall& call);
void hutchinson(const HutchinsonCall& call);
void adahessian(const AdaHessianCall& call);
void adam(const AdamCall& call);

}  // namespace cuda
}  // namespace ah4j
