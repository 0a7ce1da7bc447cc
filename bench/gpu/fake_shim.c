/*
 * A stand-in for the dozen functions of libtorch's C shim that the core uses, for dry runs of
 * verify.py on machines whose Python torch is older than 2.6 (no shim, no torch._C._aoti): there a
 * "handle" is the address of this struct, which verify.py fills from a tensor (FakeTensor). Only
 * the CPU half of verify.py can run that way. Not part of the product.
 */
#include <stdint.h>

typedef struct {
  void* data;
  int64_t numel;
  int64_t dim;
  int64_t* sizes;
  int64_t* strides;
  int32_t dtype;
  int32_t device_type;
  int32_t device_index;
} FakeTensor;

typedef FakeTensor* AtenTensorHandle;

/* c10::ScalarType and c10::DeviceType codes, as libtorch's shim returns them. */
int32_t aoti_torch_dtype_float16(void) { return 5; }
int32_t aoti_torch_dtype_float32(void) { return 6; }
int32_t aoti_torch_dtype_float64(void) { return 7; }
int32_t aoti_torch_dtype_bfloat16(void) { return 15; }
int32_t aoti_torch_device_type_cpu(void) { return 0; }
int32_t aoti_torch_device_type_cuda(void) { return 1; }

int32_t aoti_torch_get_data_ptr(AtenTensorHandle t, void** ret) { *ret = t->data; return 0; }
int32_t aoti_torch_get_numel(AtenTensorHandle t, int64_t* ret) { *ret = t->numel; return 0; }
int32_t aoti_torch_get_dim(AtenTensorHandle t, int64_t* ret) { *ret = t->dim; return 0; }
int32_t aoti_torch_get_sizes(AtenTensorHandle t, int64_t** ret) { *ret = t->sizes; return 0; }
int32_t aoti_torch_get_strides(AtenTensorHandle t, int64_t** ret) { *ret = t->strides; return 0; }
int32_t aoti_torch_get_dtype(AtenTensorHandle t, int32_t* ret) { *ret = t->dtype; return 0; }
int32_t aoti_torch_get_device_type(AtenTensorHandle t, int32_t* ret) { *ret = t->device_type; return 0; }
int32_t aoti_torch_get_device_index(AtenTensorHandle t, int32_t* ret) { *ret = t->device_index; return 0; }
int32_t aoti_torch_delete_tensor_object(AtenTensorHandle t) { (void)t; return 0; }
