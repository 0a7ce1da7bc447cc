// Reading tensors through libtorch's stable C shim, the checks every entry point runs on its
// inputs before it writes anything, and the dtype dispatch both device layers use.
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "adahessian4j.h"

namespace ah4j {

enum class DType { kFloat32, kFloat64, kFloat16, kBFloat16, kOther };
enum class Device { kCpu, kCuda, kOther };

const char* dtype_name(DType dtype);

// A C++ type as a value: dispatch_param's bodies get one per type (typename decltype(tag)::type).
template <typename T>
struct Tag {
  using type = T;
};

// Calls body(Tag<P>{}, Tag<S>{}) with the C++ types of a parameter dtype (P) and of its state
// (S: float, or double for float64). Half and BFloat16 are the device layer's 16-bit types:
// c10::Half and c10::BFloat16 on the CPU, __half and __nv_bfloat16 in the CUDA kernels.
template <typename Half, typename BFloat16, typename F>
void dispatch_param(DType dtype, F&& body) {
  switch (dtype) {
    case DType::kFloat32: body(Tag<float>{}, Tag<float>{}); break;
    case DType::kFloat64: body(Tag<double>{}, Tag<double>{}); break;
    case DType::kFloat16: body(Tag<Half>{}, Tag<float>{}); break;
    case DType::kBFloat16: body(Tag<BFloat16>{}, Tag<float>{}); break;
    default: break;  // rejected by check_param before any kernel runs
  }
}

// What the core needs to know of one tensor.
struct TensorView {
  void* data = nullptr;
  int64_t numel = 0;
  DType dtype = DType::kOther;
  Device device = Device::kOther;
  int32_t device_index = 0;
  // Borrowed from the tensor (valid while the caller's handle is): no allocation per tensor.
  const int64_t* sizes = nullptr;
  int64_t dim = 0;
};

// Raised inside the core, turned into an error code and message at the C boundary.
struct CoreError {
  int code;
  int64_t index;
  std::string message;
};

[[noreturn]] void fail(int64_t index, const std::string& message);

std::string shape_string(const int64_t* sizes, int64_t dim);
std::string shape_string(const TensorView& view);

// Reads `handle`, which must be a defined, dense, contiguous tensor. `role` and `index` name it
// in error messages ("grads", 3).
TensorView read_tensor(void* handle, const char* role, int64_t index);

// The dtype the optimizer state of a parameter of `dtype` has: float64 for float64, else float32.
DType state_dtype(DType param_dtype);

// Checks that `other` (a grad or state tensor of parameter `index`) matches the parameter's
// shape and device, and has dtype `expected`.
void check_matches(const TensorView& param, const TensorView& other, DType expected,
                   const char* role, int64_t index);

// Whether this build has the CUDA kernels (cmake -DAH4J_CUDA=ON defines AH4J_WITH_CUDA).
#ifdef AH4J_WITH_CUDA
constexpr bool kHasCudaKernels = true;
#else
constexpr bool kHasCudaKernels = false;
#endif

// "cpu", "cuda:1": a tensor's device as error messages name it.
std::string device_string(const TensorView& view);

// Checks that tensor `index` of a call's first list (`role`: "params", "zs", "tensors") has a
// floating dtype the core computes with, on a device this build has kernels for (cpu; cuda when
// built with AH4J_CUDA).
void check_param(const TensorView& param, const char* role, int64_t index);

// Checks that tensor `index` of a call's first list is on the device of its tensor 0 (`first`):
// one call, one device.
void check_same_device(const TensorView& first, const TensorView& param, const char* role,
                       int64_t index);

// Runs `body` and converts a CoreError into the C status code, storing the message. Any other
// exception (std::bad_alloc, ...) is reported as AH4J_TORCH_ERROR, an "internal error".
template <typename F>
int guarded(F&& body);

void set_error(int code, int64_t index, const std::string& message);
void clear_error();

template <typename F>
int guarded(F&& body) {
  clear_error();
  try {
    body();
    return AH4J_OK;
  } catch (const CoreError& e) {
    set_error(e.code, e.index, e.message);
    return e.code;
  } catch (const std::exception& e) {
    set_error(AH4J_TORCH_ERROR, -1, std::string("internal error: ") + e.what());
    return AH4J_TORCH_ERROR;
  } catch (...) {
    set_error(AH4J_TORCH_ERROR, -1, "internal error: unknown exception");
    return AH4J_TORCH_ERROR;
  }
}

}  // namespace ah4j
