#include "tensors.h"

#include <torch/csrc/inductor/aoti_torch/c/shim.h>

#include <algorithm>
#include <climits>
#include <sstream>

#include "adahessian4j.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#if defined(__linux__)
#include <sched.h>
#endif

namespace ah4j {

namespace {

thread_local std::string last_error_message;
thread_local int64_t last_error_index = -1;

DType dtype_of(int32_t code) {
  if (code == aoti_torch_dtype_float32()) return DType::kFloat32;
  if (code == aoti_torch_dtype_float64()) return DType::kFloat64;
  if (code == aoti_torch_dtype_float16()) return DType::kFloat16;
  if (code == aoti_torch_dtype_bfloat16()) return DType::kBFloat16;
  return DType::kOther;
}

void shim(AOTITorchError status, const char* role, int64_t index, const char* what) {
  if (status != AOTI_TORCH_SUCCESS) {
    throw CoreError{AH4J_TORCH_ERROR, index,
                    std::string(role) + ": libtorch could not read its " + what +
                        " (an undefined, sparse or otherwise non-strided tensor?)"};
  }
}

const char* device_name(Device device) {
  switch (device) {
    case Device::kCpu: return "cpu";
    case Device::kCuda: return "cuda";
    default: return "other";
  }
}

}  // namespace

std::string device_string(const TensorView& view) {
  return view.device == Device::kCuda ? "cuda:" + std::to_string(view.device_index)
                                      : std::string(device_name(view.device));
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return "float32";
    case DType::kFloat64: return "float64";
    case DType::kFloat16: return "float16";
    case DType::kBFloat16: return "bfloat16";
    default: return "a non-floating dtype";
  }
}

void fail(int64_t index, const std::string& message) {
  throw CoreError{AH4J_INVALID_ARGUMENT, index, message};
}

void set_error(int code, int64_t index, const std::string& message) {
  (void)code;
  last_error_message = message;
  last_error_index = index;
}

void clear_error() {
  last_error_message.clear();
  last_error_index = -1;
}

std::string shape_string(const TensorView& view) { return shape_string(view.sizes, view.dim); }

std::string shape_string(const int64_t* sizes, int64_t dim) {
  std::ostringstream out;
  out << "[";
  for (int64_t i = 0; i < dim; ++i) out << (i ? ", " : "") << sizes[i];
  out << "]";
  return out.str();
}

TensorView read_tensor(void* handle, const char* role, int64_t index) {
  if (handle == nullptr) fail(index, std::string(role) + ": expected a tensor, got null");
  auto tensor = static_cast<AtenTensorHandle>(handle);
  TensorView view;
  int64_t dim = 0;
  int64_t* sizes = nullptr;
  int64_t* strides = nullptr;
  int32_t dtype = 0;
  int32_t device = 0;
  shim(aoti_torch_get_dim(tensor, &dim), role, index, "dimensions");
  shim(aoti_torch_get_sizes(tensor, &sizes), role, index, "sizes");
  shim(aoti_torch_get_strides(tensor, &strides), role, index, "strides");
  shim(aoti_torch_get_dtype(tensor, &dtype), role, index, "dtype");
  shim(aoti_torch_get_device_type(tensor, &device), role, index, "device");
  view.sizes = sizes;
  view.dim = dim;
  view.numel = 1;
  for (int64_t d = 0; d < dim; ++d) view.numel *= sizes[d];
  view.dtype = dtype_of(dtype);
  view.device = device == aoti_torch_device_type_cpu()    ? Device::kCpu
                : device == aoti_torch_device_type_cuda() ? Device::kCuda
                                                          : Device::kOther;
  if (view.device == Device::kCuda) {
    shim(aoti_torch_get_device_index(tensor, &view.device_index), role, index, "device index");
  }
  int64_t expected_stride = 1;
  for (int64_t d = dim - 1; d >= 0; --d) {
    if (sizes[d] != 1 && strides[d] != expected_stride) {
      std::ostringstream out;
      out << std::string(role) << ": expected a contiguous tensor, got shape " << shape_string(view)
          << " with strides " << shape_string(strides, dim) << " (call contiguous() first)";
      fail(index, out.str());
    }
    expected_stride *= sizes[d];
  }
  if (view.numel > 0) {
    shim(aoti_torch_get_data_ptr(tensor, &view.data), role, index, "data pointer");
    if (view.data == nullptr) fail(index, std::string(role) + ": tensor has no storage");
  }
  return view;
}

DType state_dtype(DType param_dtype) {
  return param_dtype == DType::kFloat64 ? DType::kFloat64 : DType::kFloat32;
}

void check_param(const TensorView& param, const char* role, int64_t index) {
  if (param.dtype == DType::kOther) {
    fail(index, std::string(role) +
                    ": expected a floating dtype (float32, float64, float16 or bfloat16), got " +
                    dtype_name(param.dtype));
  }
  if (param.device == Device::kCuda && !kHasCudaKernels) {
    fail(index, std::string(role) +
                    ": got a cuda tensor, but this build of the core has no CUDA kernels (use the "
                    "linux-x86_64-gpu build, or build cpp/ with -DAH4J_CUDA=ON)");
  }
  if (param.device != Device::kCpu && param.device != Device::kCuda) {
    fail(index, std::string(role) + ": expected a cpu or cuda tensor, got a " +
                    device_name(param.device) +
                    " tensor (the core has no kernels for that device)");
  }
}

void check_same_device(const TensorView& first, const TensorView& param, const char* role,
                       int64_t index) {
  if (param.device != first.device || param.device_index != first.device_index) {
    // The first tensor as messages name it: "parameter 0" for params, else "zs[0]", "tensors[0]".
    const std::string first_name =
        std::string(role) == "params" ? std::string("parameter 0") : std::string(role) + "[0]";
    fail(index, std::string(role) + ": expected all tensors of one call on one device (" +
                    first_name + "'s, " + device_string(first) + "), got " + device_string(param));
  }
}

void check_matches(const TensorView& param, const TensorView& other, DType expected,
                   const char* role, int64_t index) {
  if (other.dim != param.dim || !std::equal(param.sizes, param.sizes + param.dim, other.sizes)) {
    fail(index, std::string(role) + ": expected shape " + shape_string(param) +
                    " (the parameter's), got " + shape_string(other));
  }
  if (other.dtype != expected) {
    fail(index, std::string(role) + ": expected dtype " + dtype_name(expected) + ", got " +
                    dtype_name(other.dtype));
  }
  if (other.device != param.device || other.device_index != param.device_index) {
    fail(index, std::string(role) + ": expected the parameter's device (" + device_string(param) +
                    "), got " + device_string(other));
  }
}

}  // namespace ah4j

extern "C" {

int ah4j_abi_version(void) { return AH4J_ABI_VERSION; }

const char* ah4j_last_error(void) { return ah4j::last_error_message.c_str(); }

int64_t ah4j_last_error_index(void) { return ah4j::last_error_index; }

int32_t ah4j_dtype_float32(void) { return aoti_torch_dtype_float32(); }

int ah4j_malloc_keep_freed(int64_t mmap_threshold, int64_t trim_threshold, int64_t top_pad) {
#if defined(__GLIBC__)
  if (mmap_threshold < 0 || mmap_threshold > INT_MAX || trim_threshold < 0 ||
      trim_threshold > INT_MAX || top_pad < 0 || top_pad > INT_MAX) {
    return 0;
  }
  return mallopt(M_MMAP_THRESHOLD, static_cast<int>(mmap_threshold)) == 1 &&
         mallopt(M_TRIM_THRESHOLD, static_cast<int>(trim_threshold)) == 1 &&
         mallopt(M_TOP_PAD, static_cast<int>(top_pad)) == 1;
#else
  (void)mmap_threshold;
  (void)trim_threshold;
  (void)top_pad;
  return 0;
#endif
}

int ah4j_thread_batch_scheduling(int batch) {
#if defined(__linux__)
  if (batch >= 0) {
    struct sched_param param {};
    // 0: the calling thread (Linux applies the policy to the thread, not the process)
    if (sched_setscheduler(0, batch > 0 ? SCHED_BATCH : SCHED_OTHER, &param) != 0) {
      return -1;
    }
  }
  int policy = sched_getscheduler(0);
  return policy < 0 ? -1 : policy == SCHED_BATCH ? 1 : 0;
#else
  (void)batch;
  return -1;
#endif
}

int ah4j_tensor_info(void* tensor, int64_t* numel, int32_t* dtype, void** data) {
  return ah4j::guarded([&] {
    if (tensor == nullptr || numel == nullptr || dtype == nullptr || data == nullptr) {
      ah4j::fail(-1, "ah4j_tensor_info: null argument");
    }
    auto handle = static_cast<AtenTensorHandle>(tensor);
    if (aoti_torch_get_numel(handle, numel) != AOTI_TORCH_SUCCESS ||
        aoti_torch_get_dtype(handle, dtype) != AOTI_TORCH_SUCCESS ||
        aoti_torch_get_data_ptr(handle, data) != AOTI_TORCH_SUCCESS) {
      throw ah4j::CoreError{AH4J_TORCH_ERROR, -1,
                            "ah4j_tensor_info: libtorch could not read the tensor"};
    }
  });
}

}  // extern "C"
