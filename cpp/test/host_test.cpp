// Tests of the core's device dispatch and of the CUDA launch planner that run without a GPU:
//   host_test            (linked against libah4j.so, CPU or CUDA build, and libtorch_cpu.so)
// - the planner (cuda/multi_tensor.h) covers every element once, in whole blocks/probe words,
//   within the kernel argument's limits;
// - one call, one device: cpu and cuda tensors mixed are rejected, naming the culprit;
// - cuda tensors: a CPU build says it has no CUDA kernels; a CUDA build validates them like cpu
//   ones and then fails cleanly (AH4J_CUDA_ERROR) on a machine without libtorch_cuda or a GPU;
//   no call writes anything when it fails.
// "cuda" tensors are cpu tensors that this program reports as cuda: it interposes the shim's
// aoti_torch_get_device_type / _index (exported with -rdynamic, so the core binds to these).
#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>
#include <dlfcn.h>
#include <sched.h>
#include <torch/csrc/inductor/aoti_torch/c/shim.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "../src/cuda/multi_tensor.h"
#include "../src/step_math.h"
#include "adahessian4j.h"

namespace {

std::set<AtenTensorHandle> fake_cuda;  // handles this program reports as cuda:0
int fake_stream_status = 1;            // what the fake current-stream function returns

int passed = 0, failed = 0;

void expect(bool ok, const std::string& what) {
  if (ok) {
    ++passed;
    if (std::getenv("HOST_TEST_VERBOSE")) std::printf("ok: %s\n", what.c_str());
  } else {
    ++failed;
    std::printf("FAILED: %s\n", what.c_str());
  }
}

template <typename F>
F next_symbol(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

}  // namespace

extern "C" {

AOTITorchError aoti_torch_get_device_type(AtenTensorHandle tensor, int32_t* ret) {
  static auto real =
      next_symbol<AOTITorchError (*)(AtenTensorHandle, int32_t*)>("aoti_torch_get_device_type");
  if (fake_cuda.count(tensor)) {
    *ret = aoti_torch_device_type_cuda();
    return AOTI_TORCH_SUCCESS;
  }
  return real(tensor, ret);
}

AOTITorchError aoti_torch_get_device_index(AtenTensorHandle tensor, int32_t* ret) {
  static auto real =
      next_symbol<AOTITorchError (*)(AtenTensorHandle, int32_t*)>("aoti_torch_get_device_index");
  if (fake_cuda.count(tensor)) {
    *ret = 0;
    return AOTI_TORCH_SUCCESS;
  }
  return real(tensor, ret);
}

// Stands in for libtorch_cuda's: the CUDA build finds it in the global scope.
AOTITorchError aoti_torch_get_current_cuda_stream(int32_t, void** stream) {
  *stream = nullptr;
  return fake_stream_status;
}

}  // extern "C"

namespace {

using namespace ah4j::cuda;
using ah4j::kProbeWordBits;

// ---------------------------------------------------------------------------------------------
// The planner.

struct Extra {
  int64_t id;
};

void check_plan(const std::vector<int64_t>& numels, const std::vector<int64_t>& chunk_lengths,
                const std::string& name) {
  std::vector<Item<2, Extra>> items;
  for (size_t i = 0; i < numels.size(); ++i) {
    items.push_back({{reinterpret_cast<void*>(0x1000 * (i + 1)), nullptr},
                     numels[i],
                     chunk_lengths[i],
                     {static_cast<int64_t>(i)}});
  }
  // Chunks per tensor, in launch order: they must tile [0, numel) in order, each a whole chunk
  // length (the last may be shorter).
  std::vector<std::vector<std::pair<int64_t, int64_t>>> seen(numels.size());
  Batch<2, Extra> batch;
  bool ok = true;
  int launches = 0;
  plan_batches(items, batch, [&](const Batch<2, Extra>& b, int chunks) {
    ++launches;
    ok &= chunks >= 1 && chunks <= kMaxChunks;
    std::set<int32_t> tensors;
    for (int c = 0; c < chunks; ++c) {
      const ChunkRef& r = b.chunk[c];
      const int tensor = b.chunk_tensor[c];
      ok &= tensor < kMaxTensors;
      tensors.insert(tensor);
      const int64_t id = b.extra[tensor].id;
      ok &= b.ptr[0][tensor] == items[id].ptr[0];
      seen[id].push_back({r.begin, r.end});
    }
    ok &= tensors.size() <= static_cast<size_t>(kMaxTensors);
  });
  for (size_t i = 0; i < numels.size(); ++i) {
    int64_t next = 0;
    for (const auto& [begin, end] : seen[i]) {
      ok &= begin == next && end > begin;
      ok &= end - begin == chunk_lengths[i] || end == numels[i];
      next = end;
    }
    ok &= next == std::max<int64_t>(numels[i], 0);
  }
  expect(ok, "planner covers every element once: " + name + " (" + std::to_string(launches) +
                 " launches)");
}

void planner_tests(const int64_t kChunkElements) {
  check_plan({}, {}, "no tensors");
  check_plan({0, 0}, {kChunkElements, kChunkElements}, "empty tensors");
  check_plan({1, 5, 0, 65536, 65537}, std::vector<int64_t>(5, kChunkElements), "small");
  // More tensors than one launch holds, and more chunks than one launch holds.
  std::vector<int64_t> many(200, 3), lengths(200, kChunkElements);
  check_plan(many, lengths, "200 tiny tensors");
  check_plan({kChunkElements * 2100 + 17}, {kChunkElements}, "one tensor of 2101 chunks");
  check_plan({kChunkElements * kMaxChunks, 5}, {kChunkElements, kChunkElements},
             "a full launch, then one more");
  std::mt19937_64 rng(7);
  std::vector<int64_t> numels, chunks;
  for (int i = 0; i < 300; ++i) {
    const int64_t block = std::vector<int64_t>{1, 9, 25, 64, 65, 512, 70000}[rng() % 7];
    numels.push_back(block * static_cast<int64_t>(rng() % 40));
    chunks.push_back(adahessian_chunk_length(block, kChunkElements));
  }
  check_plan(numels, chunks, "300 random block-averaged tensors");

  bool ok = true;
  for (int64_t block : {1, 2, 9, 25, 64, 65, 100, 4096, 32768, 32769, 65536, 65537, 1000000}) {
    const int64_t length = adahessian_chunk_length(block, kChunkElements);
    ok &= length % block == 0;
    ok &= block == 1 || length / block <= kMaxMeans;
    ok &= block == 1 ? length == kChunkElements : length <= std::max(kMaxChunkElements, block);
    ok &= block == 1 || length / block < 32 || (length / block) % 32 == 0;
  }
  expect(ok, "AdaHessian chunks are whole blocks, at most kMaxMeans of them, 32 blocks at a time");
  const int64_t c = kMaxChunkElements;
  expect(mean_threads(1) == kNoMeans && mean_threads(64) == kThreadPerGroup &&
             mean_threads(65) == kWarpPerGroup && mean_threads(c) == kWarpPerGroup &&
             mean_threads(c + 1) == kBlockPerGroup,
         "mean threads: in element order up to 64 elements per averaging group");
  expect(kMinChunkElements % kProbeWordBits == 0, "probe chunks start at whole random words");
}

// ---------------------------------------------------------------------------------------------
// The C API's device dispatch.

// A cpu tensor of n elements of a dtype (float64, float32, float16 or bfloat16), each next().
AtenTensorHandle make_typed(int32_t dtype, int64_t n, const std::function<double()>& next) {
  int64_t sizes[1] = {n}, strides[1] = {1};
  AtenTensorHandle t = nullptr;
  aoti_torch_empty_strided(1, sizes, strides, dtype, aoti_torch_device_type_cpu(), 0, &t);
  void* data = nullptr;
  aoti_torch_get_data_ptr(t, &data);
  for (int64_t i = 0; i < n; ++i) {
    const double x = next();
    if (dtype == aoti_torch_dtype_float64())
      static_cast<double*>(data)[i] = x;
    else if (dtype == aoti_torch_dtype_float32())
      static_cast<float*>(data)[i] = static_cast<float>(x);
    else if (dtype == aoti_torch_dtype_float16())
      static_cast<c10::Half*>(data)[i] = static_cast<float>(x);
    else
      static_cast<c10::BFloat16*>(data)[i] = static_cast<float>(x);
  }
  return t;
}

AtenTensorHandle make(int64_t n, float value) {
  return make_typed(aoti_torch_dtype_float32(), n, [&] { return value; });
}

std::vector<float> values(AtenTensorHandle t) {
  int64_t n = 0;
  void* data = nullptr;
  aoti_torch_get_numel(t, &n);
  aoti_torch_get_data_ptr(t, &data);
  return std::vector<float>(static_cast<float*>(data), static_cast<float*>(data) + n);
}

// Two parameters of 4 and 6 elements with grads, states and a diagonal.
struct Call {
  std::vector<AtenTensorHandle> p, g, d, m, v, x;
  std::vector<int64_t> blocks{2, 3}, steps{1, 1};
  std::vector<double> hyper{0.1, 0.9, 0.999, 1e-4, 0.0, 1.0, 0.1, 0.9, 0.999, 1e-4, 0.0, 1.0};
  std::vector<int32_t> flags{AH4J_ADAM_AMSGRAD, AH4J_ADAM_AMSGRAD};
  Call() {
    for (int64_t n : {4, 6}) {
      p.push_back(make(n, 1));
      g.push_back(make(n, 0.5));
      d.push_back(make(n, 2));
      m.push_back(make(n, 0));
      v.push_back(make(n, 0));
      x.push_back(make(n, 0));
    }
  }
  ~Call() {
    for (auto* list : {&p, &g, &d, &m, &v, &x}) {
      for (AtenTensorHandle t : *list) aoti_torch_delete_tensor_object(t);
    }
  }
  std::vector<std::vector<float>> snapshot() const {
    std::vector<std::vector<float>> all;
    for (auto* list : {&p, &g, &d, &m, &v, &x}) {
      for (AtenTensorHandle t : *list) all.push_back(values(t));
    }
    return all;
  }
  void** h(const std::vector<AtenTensorHandle>& list) {
    return reinterpret_cast<void**>(const_cast<AtenTensorHandle*>(list.data()));
  }
  int adahessian() {
    return ah4j_adahessian_step_(h(p), h(g), h(d), h(m), h(v), 2, blocks.data(), steps.data(),
                                 hyper.data());
  }
  int adam() {
    return ah4j_adam_step_(h(p), h(g), h(m), h(v), h(x), 2, steps.data(), hyper.data(),
                           flags.data());
  }
  int step_bytes_only() { return ah4j_step_bytes_only_(h(p), h(g), h(m), h(v), 2); }
  int hutchinson() { return ah4j_hutchinson_accumulate_(h(d), h(p), h(g), 2, 0.5, 0); }
  int rademacher() {
    int64_t ids[2] = {0, 1};
    return ah4j_rademacher_(h(p), ids, 2, 42, 7);
  }
};

bool contains(const char* text, const char* part) { return std::strstr(text, part) != nullptr; }

void check_call(const std::string& name, const std::function<int(Call&)>& configure_and_run,
                int expected_code, const char* expected_message, int64_t expected_index) {
  Call call;
  const auto before = call.snapshot();
  const int code = configure_and_run(call);
  const std::string message = ah4j_last_error();
  const bool ok = code == expected_code && contains(message.c_str(), expected_message) &&
                  (expected_code == AH4J_OK || ah4j_last_error_index() == expected_index);
  expect(ok, name + ": got code " + std::to_string(code) + ", index " +
                 std::to_string(ah4j_last_error_index()) + ", message \"" + message + "\"");
  if (expected_code != AH4J_OK) {
    expect(call.snapshot() == before, name + ": a failed call writes nothing");
  } else {
    expect(call.snapshot() != before, name + ": a cpu call writes its tensors");
  }
}

void dispatch_tests() {
  const bool cuda = ah4j_has_cuda_kernels() != 0;
  std::printf("core: %s build\n", cuda ? "CUDA" : "CPU");
  using Run = std::function<int(Call&)>;
  // Each entry point, and what its messages call its first list (params, or the probes zs).
  const std::vector<std::tuple<std::string, Run, std::string>> entry_points = {
      {"adahessian", [](Call& c) { return c.adahessian(); }, "params"},
      {"adam", [](Call& c) { return c.adam(); }, "params"},
      {"hutchinson", [](Call& c) { return c.hutchinson(); }, "zs"},
      {"rademacher", [](Call& c) { return c.rademacher(); }, "zs"},
  };
  for (const auto& [name, run, first] : entry_points) {
    check_call(name + " on cpu", run, AH4J_OK, "", -1);
    // Parameter 1 on "cuda", parameter 0 on cpu: one call, one device.
    const std::string mixed = first == "params"
                                  ? "params: expected all tensors of one call on one device "
                                    "(parameter 0's, cpu), got cuda:0"
                                  : first + ": expected all tensors of one call on one device (" +
                                        first + "[0]'s, cpu), got cuda:0";
    const std::string no_kernels =
        first + ": got a cuda tensor, but this build of the core has no CUDA kernels";
    check_call(
        name + " mixing cpu and cuda params",
        [&](Call& c) {
          fake_cuda = {c.p[1]};
          const int code = run(c);
          fake_cuda.clear();
          return code;
        },
        AH4J_INVALID_ARGUMENT, (cuda ? mixed : no_kernels).c_str(), 1);
  }
  // A cuda parameter whose grad is on the cpu.
  check_call(
      "adam with a cpu grad for a cuda param",
      [&](Call& c) {
        fake_cuda = {c.p[0], c.p[1], c.m[0], c.m[1], c.v[0], c.v[1], c.x[0], c.x[1], c.g[1]};
        const int code = c.adam();
        fake_cuda.clear();
        return code;
      },
      AH4J_INVALID_ARGUMENT,
      cuda ? "grads: expected the parameter's device (cuda:0), got cpu" : "no CUDA kernels", 0);
  // Every tensor "cuda" but invalid: validation comes first, whatever the device.
  check_call(
      "adahessian with cuda tensors and a bad block size",
      [&](Call& c) {
        for (auto* list : {&c.p, &c.g, &c.d, &c.m, &c.v})
          fake_cuda.insert(list->begin(), list->end());
        c.blocks[1] = 4;
        const int code = c.adahessian();
        fake_cuda.clear();
        return code;
      },
      AH4J_INVALID_ARGUMENT, cuda ? "block size 4 does not divide" : "no CUDA kernels",
      cuda ? 1 : 0);
  // Valid cuda calls: no GPU here, so a CUDA build fails after validation, writing nothing.
  for (int status : {1, 0}) {
    fake_stream_status = status;
    for (const auto& [name, run, first] : entry_points) {
      check_call(
          name + " on cuda (stream lookup " + (status ? "fails" : "works") + ")",
          [&](Call& c) {
            for (auto* list : {&c.p, &c.g, &c.d, &c.m, &c.v, &c.x}) {
              fake_cuda.insert(list->begin(), list->end());
            }
            const int code = run(c);
            fake_cuda.clear();
            return code;
          },
          cuda ? AH4J_CUDA_ERROR : AH4J_INVALID_ARGUMENT,
          !cuda    ? "no CUDA kernels"
          : status ? "could not tell the current CUDA stream"
                   : "CUDA cudaGetDevice failed",
          cuda ? -1 : 0);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The CPU loops give the same bits with every instruction set (ah4j_cpu_isa).

struct Typed {
  int32_t dtype;
  size_t size;
};

AtenTensorHandle make_random(Typed type, int64_t n, uint64_t seed, double lo, double hi) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(lo, hi);
  return make_typed(type.dtype, n, [&] { return uniform(rng); });
}

std::vector<uint8_t> bytes(AtenTensorHandle t, size_t element_size) {
  int64_t n = 0;
  void* data = nullptr;
  aoti_torch_get_numel(t, &n);
  aoti_torch_get_data_ptr(t, &data);
  const auto* b = static_cast<const uint8_t*>(data);
  return std::vector<uint8_t>(b, b + n * element_size);
}

// Every entry point on three tensors (one over the parallel threshold, one of 3x3 blocks, a tail
// of odd length), from the same inputs: the bytes of every output.
std::vector<std::vector<uint8_t>> run_everything(Typed param, Typed state) {
  const std::vector<int64_t> numels{100003, 9 * 1001, 37};
  const std::vector<int64_t> blocks{1, 9, 1};
  std::vector<AtenTensorHandle> p, g, z, hz, d, m, v, x;
  for (size_t i = 0; i < numels.size(); ++i) {
    const int64_t n = numels[i];
    p.push_back(make_random(param, n, 10 + i, -1, 1));
    g.push_back(make_random(param, n, 20 + i, -1, 1));
    z.push_back(make_random(param, n, 30 + i, -1, 1));
    hz.push_back(make_random(param, n, 40 + i, -3, 3));
    d.push_back(make_random(state, n, 50 + i, -2, 2));  // Hutchinson sums in the state dtype
    m.push_back(make_random(state, n, 60 + i, -0.1, 0.1));
    v.push_back(make_random(state, n, 70 + i, 0.001, 0.01));
    x.push_back(make_random(state, n, 80 + i, 0.001, 0.01));
  }
  auto h = [](std::vector<AtenTensorHandle>& list) {
    return reinterpret_cast<void**>(list.data());
  };
  const int64_t count = static_cast<int64_t>(numels.size());
  std::vector<int64_t> ids{3, 4, 5}, steps{1, 7, 100};
  std::vector<double> hyper;
  const double powers[3] = {1.0, 0.5, 0.3};
  for (int i = 0; i < 3; ++i) {
    for (double h_value : {0.15, 0.9, 0.999, 1e-4, i == 1 ? 1e-2 : 0.0, powers[i]})
      hyper.push_back(h_value);
  }
  std::vector<int32_t> flags{0, AH4J_ADAM_AMSGRAD | AH4J_ADAM_MAXIMIZE,
                             AH4J_ADAM_DECOUPLED_WEIGHT_DECAY};
  int code = AH4J_OK;
  const auto call = [&](const char* what, int status) {
    if (status != AH4J_OK && code == AH4J_OK) {
      std::printf("%s: %s\n", what, ah4j_last_error());
      code = status;
    }
  };
  call("rademacher", ah4j_rademacher_(h(z), ids.data(), count, 99, 5));
  call("hutchinson", ah4j_hutchinson_accumulate_(h(d), h(z), h(hz), count, 1.0 / 3, 0));
  call("adahessian", ah4j_adahessian_step_(h(p), h(g), h(d), h(m), h(v), count, blocks.data(),
                                           steps.data(), hyper.data()));
  call("adam", ah4j_adam_step_(h(p), h(g), h(m), h(v), h(x), count, steps.data(), hyper.data(),
                               flags.data()));
  int64_t first = -2;
  call("find_non_finite", ah4j_find_non_finite(h(hz), count, &first));
  std::vector<int32_t> non_finite(count, -1);
  std::vector<double> sum_sq(count), sum_abs(count), max_abs(count);
  call("tensor_stats", ah4j_tensor_stats(h(g), count, non_finite.data(), sum_sq.data(),
                                         sum_abs.data(), max_abs.data()));
  std::vector<std::vector<uint8_t>> out;
  out.push_back({static_cast<uint8_t>(code), static_cast<uint8_t>(first + 2)});
  for (const auto* stat : {&sum_sq, &sum_abs, &max_abs}) {
    const auto* b = reinterpret_cast<const uint8_t*>(stat->data());
    out.push_back(std::vector<uint8_t>(b, b + stat->size() * sizeof(double)));
  }
  for (int32_t flag : non_finite) out.push_back({static_cast<uint8_t>(flag)});
  for (auto* list : {&p, &g, &z, &hz, &d, &m, &v, &x}) {
    const size_t size =
        list == &d || list == &m || list == &v || list == &x ? state.size : param.size;
    for (AtenTensorHandle t : *list) {
      out.push_back(bytes(t, size));
      aoti_torch_delete_tensor_object(t);
    }
  }
  return out;
}

void isa_tests() {
  const int best = ah4j_cpu_isa(-1);
  std::printf("cpu loops: instruction set %d (0 baseline, 1 AVX2, 2 AVX-512)\n", best);
  expect(best >= 0 && best <= 2, "the instruction set in effect is one of 0, 1, 2");
  expect(ah4j_cpu_isa(3) == -1 && ah4j_cpu_isa(-1) == best,
         "an unknown instruction set is refused");
  const Typed f64{aoti_torch_dtype_float64(), 8}, f32{aoti_torch_dtype_float32(), 4};
  const Typed f16{aoti_torch_dtype_float16(), 2}, bf16{aoti_torch_dtype_bfloat16(), 2};
  const std::vector<std::pair<const char*, std::pair<Typed, Typed>>> types{
      {"float64", {f64, f64}},
      {"float32", {f32, f32}},
      {"float16", {f16, f32}},
      {"bfloat16", {bf16, f32}}};
  for (const auto& [name, pair] : types) {
    ah4j_cpu_isa(0);
    const auto baseline = run_everything(pair.first, pair.second);
    expect(baseline[0][0] == AH4J_OK, std::string(name) + ": every entry point ran");
    for (int isa = 1; isa <= best; ++isa) {
      ah4j_cpu_isa(isa);
      expect(run_everything(pair.first, pair.second) == baseline,
             std::string(name) + ": instruction set " + std::to_string(isa) +
                 " gives the baseline's bits (probes, Hutchinson, AdaHessian k 1/0.5/0.3, Adam, "
                 "check, stats)");
    }
  }
  ah4j_cpu_isa(best);
}

// The block-averaged AdaHessian step against the one-block-at-a-time loop it replaced (written
// here from step_math.h, the shared element math): the same bytes, for float32 and float64
// parameters, Hessian powers 1, 0.5 and 0.3, blocks of 9 and 4, and a tensor of several chunks.
template <typename P>
bool block_step_matches(int32_t dtype, int64_t block, double power) {
  const int64_t n = block * 9001;  // several chunks, a tail of blocks that is not a multiple of 8
  std::mt19937_64 rng(block * 131 + static_cast<int>(power * 10));
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<P> p0(n), g(n), d(n), m0(n), v0(n);
  for (int64_t i = 0; i < n; ++i) {
    p0[i] = P(u(rng));
    g[i] = P(u(rng));
    d[i] = P(2 * u(rng));
    m0[i] = P(0.1 * u(rng));
    v0[i] = P(0.01 * std::abs(u(rng)));
  }
  auto copy_in = [&](const std::vector<P>& values) {
    int64_t k = 0;
    return make_typed(dtype, n, [&] { return double(values[k++]); });
  };
  AtenTensorHandle tp = copy_in(p0), tg = copy_in(g), td = copy_in(d), tm = copy_in(m0),
                   tv = copy_in(v0);
  const int64_t steps[1] = {7};
  const double hyper[AH4J_HP_COUNT] = {0.15, 0.9, 0.999, 1e-4, 1e-3, power};
  const int64_t blocks[1] = {block};
  void* hp[1] = {tp};
  void* hg[1] = {tg};
  void* hd[1] = {td};
  void* hm[1] = {tm};
  void* hv[1] = {tv};
  const int status = ah4j_adahessian_step_(hp, hg, hd, hm, hv, 1, blocks, steps, hyper);
  // The reference: one block at a time, its mean of |D| summed in double in element order.
  std::vector<P> p = p0, m = m0, v = v0;
  const auto sc =
      ah4j::adahessian_scalars<P>(hyper[0], hyper[1], hyper[2], hyper[3], hyper[4], power, 7);
  for (int64_t b = 0; b < n; b += block) {
    double sum = 0;
    for (int64_t i = b; i < b + block; ++i) sum += std::abs(static_cast<double>(d[i]));
    const P mean = static_cast<P>(sum / static_cast<double>(block));
    for (int64_t i = b; i < b + block; ++i) {
      switch (ah4j::power_kind(power)) {
        case ah4j::Power::kOne:
          ah4j::adahessian_element<ah4j::Power::kOne, P>(p[i], g[i], mean, m[i], v[i], sc);
          break;
        case ah4j::Power::kHalf:
          ah4j::adahessian_element<ah4j::Power::kHalf, P>(p[i], g[i], mean, m[i], v[i], sc);
          break;
        default:
          ah4j::adahessian_element<ah4j::Power::kGeneral, P>(p[i], g[i], mean, m[i], v[i], sc);
          break;
      }
    }
  }
  const size_t bytes_n = static_cast<size_t>(n) * sizeof(P);
  const bool same =
      status == AH4J_OK &&
      bytes(tp, sizeof(P)) ==
          std::vector<uint8_t>(reinterpret_cast<const uint8_t*>(p.data()),
                               reinterpret_cast<const uint8_t*>(p.data()) + bytes_n) &&
      bytes(tm, sizeof(P)) ==
          std::vector<uint8_t>(reinterpret_cast<const uint8_t*>(m.data()),
                               reinterpret_cast<const uint8_t*>(m.data()) + bytes_n) &&
      bytes(tv, sizeof(P)) ==
          std::vector<uint8_t>(reinterpret_cast<const uint8_t*>(v.data()),
                               reinterpret_cast<const uint8_t*>(v.data()) + bytes_n);
  for (AtenTensorHandle t : {tp, tg, td, tm, tv}) aoti_torch_delete_tensor_object(t);
  return same;
}

void block_step_tests() {
  const int best = ah4j_cpu_isa(-1);
  for (int isa = 0; isa <= best; ++isa) {
    ah4j_cpu_isa(isa);
    for (int64_t block : {9, 4}) {
      for (double power : {1.0, 0.5, 0.3}) {
        const std::string what = "instruction set " + std::to_string(isa) + ", blocks of " +
                                 std::to_string(block) + ", power " + std::to_string(power);
        expect(block_step_matches<float>(aoti_torch_dtype_float32(), block, power),
               "block-averaged step == one block at a time (float32), " + what);
        expect(block_step_matches<double>(aoti_torch_dtype_float64(), block, power),
               "block-averaged step == one block at a time (float64), " + what);
      }
    }
  }
  ah4j_cpu_isa(best);
}

// The statistics pass against sums computed here element by element, on a tensor of several
// chunks: exact sums of squares and absolute values of small integers, the max, and the flag.
void stats_tests() {
  const int64_t n = 3 * (1 << 15) + 11;  // four chunks, the last one short
  int64_t k = 0;
  AtenTensorHandle a =
      make_typed(aoti_torch_dtype_float32(), n, [&] { return double((k++ % 7) - 3); });
  double want_sq = 0, want_abs = 0;
  for (int64_t e = 0; e < n; ++e) {
    const double x = double((e % 7) - 3);
    want_sq += x * x;
    want_abs += std::abs(x);
  }
  AtenTensorHandle b = make_typed(aoti_torch_dtype_float64(), 5, [] { return -2.5; });
  AtenTensorHandle empty = make_typed(aoti_torch_dtype_float32(), 0, [] { return 0.0; });
  std::vector<AtenTensorHandle> list{a, b, empty};
  std::vector<int32_t> bad(3, -1);
  std::vector<double> sq(3, -1), ab(3, -1), mx(3, -1);
  const int status = ah4j_tensor_stats(reinterpret_cast<void**>(list.data()), 3, bad.data(),
                                       sq.data(), ab.data(), mx.data());
  expect(status == AH4J_OK, "tensor_stats runs on float32, float64 and empty tensors");
  expect(sq[0] == want_sq && ab[0] == want_abs && mx[0] == 3.0 && bad[0] == 0,
         "tensor_stats: sums of squares and of |x|, and the max, of a four-chunk float32 tensor");
  expect(sq[1] == 31.25 && ab[1] == 12.5 && mx[1] == 2.5 && bad[1] == 0,
         "tensor_stats: float64 tensor");
  expect(sq[2] == 0 && ab[2] == 0 && mx[2] == 0 && bad[2] == 0,
         "tensor_stats: an empty tensor gives zeros");
  // Without the |x| statistics (null): the same sums of squares, to the bit, and the other
  // statistic where asked for.
  for (int mode = 0; mode < 3; ++mode) {
    std::vector<int32_t> bad2(3, -1);
    std::vector<double> sq2(3, -1), ab2(3, -7), mx2(3, -7);
    const int st =
        ah4j_tensor_stats(reinterpret_cast<void**>(list.data()), 3, bad2.data(), sq2.data(),
                          mode == 1 ? ab2.data() : nullptr, mode == 2 ? mx2.data() : nullptr);
    expect(st == AH4J_OK && sq2 == sq && bad2 == bad &&
               (mode == 1 ? ab2 == ab : ab2 == std::vector<double>(3, -7)) &&
               (mode == 2 ? mx2 == mx : mx2 == std::vector<double>(3, -7)),
           "tensor_stats without sum_abs / max_abs (mode " + std::to_string(mode) +
               "): same squares and flags, the skipped outputs untouched");
  }
  void* data = nullptr;
  aoti_torch_get_data_ptr(a, &data);
  static_cast<float*>(data)[n - 2] = std::numeric_limits<float>::quiet_NaN();
  aoti_torch_get_data_ptr(b, &data);
  static_cast<double*>(data)[1] = -std::numeric_limits<double>::infinity();
  ah4j_tensor_stats(reinterpret_cast<void**>(list.data()), 3, bad.data(), sq.data(), ab.data(),
                    mx.data());
  expect(bad[0] == 1 && bad[1] == 1 && bad[2] == 0,
         "tensor_stats flags NaN and -inf in the tensor that holds them");
  for (AtenTensorHandle t : list) aoti_torch_delete_tensor_object(t);
}

struct Sums {
  double sq = 0, abs = 0;
};

// The sums of x^2 and |x| of a float32 tensor in the order ah4j_tensor_stats documents: chunks of
// the core's kChunkSize (2^15) elements in order; in each, blocks of 16 rows of 32 elements (the
// last one shorter), lane j (element j of each row) summed in float and added to double lane j,
// or, where a block's float lane sums of squares are not all finite, the block's elements added
// to the double lanes one by one; the lanes added in order, then the chunk's tail in double.
Sums ordered_sums(const std::vector<float>& x) {
  const int64_t n = static_cast<int64_t>(x.size()), chunk = 1 << 15, row = 32, block = 16 * row;
  Sums total;
  for (int64_t b = 0; b < n; b += chunk) {
    const int64_t e = std::min(n, b + chunk), tail = b + (e - b) / row * row;
    double sq[32] = {}, ab[32] = {};
    for (int64_t k = b; k < tail; k += block) {
      const int64_t k_end = std::min(tail, k + block);
      float fsq[32] = {}, fab[32] = {};
      for (int64_t i = k; i < k_end; ++i) {
        fsq[(i - k) % row] += x[i] * x[i];
        fab[(i - k) % row] += std::abs(x[i]);
      }
      if (std::all_of(fsq, fsq + row, [](float f) { return std::isfinite(f); })) {
        for (int j = 0; j < row; ++j) {
          sq[j] += fsq[j];
          ab[j] += fab[j];
        }
      } else {
        for (int64_t i = k; i < k_end; ++i) {
          const double a = std::abs(double(x[i]));
          sq[(i - k) % row] += a * a;
          ab[(i - k) % row] += a;
        }
      }
    }
    Sums sums;
    for (int j = 0; j < row; ++j) {
      sums.sq += sq[j];
      sums.abs += ab[j];
    }
    for (int64_t i = tail; i < e; ++i) {
      sums.sq += double(x[i]) * double(x[i]);
      sums.abs += std::abs(double(x[i]));
    }
    total.sq += sums.sq;
    total.abs += sums.abs;
  }
  return total;
}

// One float32 tensor's statistics (all four outputs).
struct Stats {
  int32_t non_finite = -1;
  double sq = -1, abs = -1, max = -1;
  bool operator==(const Stats& o) const {  // bitwise: NaN sums compare too
    return non_finite == o.non_finite && std::memcmp(&sq, &o.sq, sizeof sq) == 0 &&
           std::memcmp(&abs, &o.abs, sizeof abs) == 0 && std::memcmp(&max, &o.max, sizeof max) == 0;
  }
};

Stats stats_of(AtenTensorHandle t) {
  Stats s;
  const int status =
      ah4j_tensor_stats(reinterpret_cast<void**>(&t), 1, &s.non_finite, &s.sq, &s.abs, &s.max);
  if (status != AH4J_OK) s.non_finite = -2;
  return s;
}

// Rounded sums over chunks that 1, 2 and 3 OpenMP threads read in different orders, with every
// instruction set: the same bits as the documented order, whichever thread read which chunk when.
// Two tensors: random values (float's roundings show in the bits), and the same with every 37th
// block of 16 rows of 32 scaled by 1e19 (float's sums of those overflow: summed in double).
void stats_order_tests() {
  const auto set_threads =
      reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
  const auto max_threads = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
  expect(set_threads && max_threads, "libgomp's thread setting is reachable");
  if (!set_threads || !max_threads) return;
  const int before = max_threads(), best = ah4j_cpu_isa(-1);
  const int64_t n = 7 * (1 << 15) + 5;  // 8 chunks: threads get unequal shares
  for (const double large : {1.0, 1e19}) {
    std::mt19937_64 rng(91);
    std::uniform_real_distribution<double> uniform(-3, 3);
    int64_t e = 0;
    AtenTensorHandle a = make_typed(aoti_torch_dtype_float32(), n, [&] {
      return uniform(rng) * ((e++ / 512) % 37 == 5 ? large : 1.0);
    });
    const Sums want = ordered_sums(values(a));
    bool same = true;
    for (int isa = 0; isa <= best; ++isa) {
      ah4j_cpu_isa(isa);
      for (int threads : {1, 2, 3}) {
        set_threads(threads);
        const Stats s = stats_of(a);
        same &= s.sq == want.sq && s.abs == want.abs && s.non_finite == 0;
      }
    }
    ah4j_cpu_isa(best);
    set_threads(before);
    expect(same, std::string("tensor_stats: with 1, 2 and 3 threads and every instruction set, ") +
                     "the bits of the documented order (" +
                     (large == 1.0 ? "random values" : "blocks over float's range") + ")");
    aoti_torch_delete_tensor_object(a);
  }
}

// Within a block, each of a float32 tensor's 32 lanes sums 16 squares (and |x|) in float: within
// gamma_16 = 16 u / (1 - 16 u), u = 2^-24, of exact, relative; the double sums over blocks and
// lanes add little (2^-53 per addition, here under 1e-13 in all).
constexpr double kFloat32StatsBound = 16 * 0x1p-24 / (1 - 16 * 0x1p-24) + 1e-13;

// The float32 sums against exact ones (each float's square is exact in long double and the sum of
// up to 2^20 of them rounds within 2^20 * 2^-64 < 1e-13): within kFloat32StatsBound. Constant
// values make float's roundings add up in one direction (0.1: about 1.4e-5 with 1,024 rows per
// block instead of 16); random ones of mixed signs and magnitudes; a tensor that is one tail. The
// max is exact.
void stats_float32_accuracy_tests() {
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<double> uniform(-1, 1), exponent(-20, 20);
  const std::vector<std::pair<const char*, std::function<double()>>> cases{
      {"0.1 everywhere", [] { return 0.1; }},
      {"1.3 everywhere", [] { return 1.3; }},
      {"uniform in (-1, 1)", [&] { return uniform(rng); }},
      {"+-10^(-20..20)",
       [&] { return std::pow(10.0, exponent(rng)) * (uniform(rng) < 0 ? -1 : 1); }}};
  for (const auto& [name, next] : cases) {
    for (int64_t n : {int64_t{3} * (1 << 15) + 4321, int64_t{29}}) {
      AtenTensorHandle t = make_typed(aoti_torch_dtype_float32(), n, next);
      long double sq = 0, ab = 0;
      double mx = 0;
      for (float x : values(t)) {
        sq += static_cast<long double>(x) * x;
        ab += std::abs(static_cast<long double>(x));
        mx = std::max(mx, std::abs(double(x)));
      }
      const Stats s = stats_of(t);
      const double err_sq = double(std::abs((s.sq - sq) / sq));
      const double err_abs = double(std::abs((s.abs - ab) / ab));
      char what[200];
      std::snprintf(what, sizeof what,
                    "tensor_stats on float32, %s, %lld elements: sums within %.3g of exact (x^2 "
                    "%.3g, |x| %.3g), the max exact",
                    name, static_cast<long long>(n), kFloat32StatsBound, err_sq, err_abs);
      expect(s.non_finite == 0 && err_sq <= kFloat32StatsBound && err_abs <= kFloat32StatsBound &&
                 s.max == mx,
             what);
      aoti_torch_delete_tensor_object(t);
    }
  }
}

// Float32 sums past float's range: a block whose float sums overflow is summed in double. Elements
// of 1e20 (their squares overflow float), and of 1.5e19 (their squares do not, two of them in a
// lane do) give finite sums, within the bound, and no flag; +-inf and NaN are flagged, also among
// such large values; every instruction set gives the same bits.
void stats_float32_overflow_tests() {
  const int64_t n = 2 * (1 << 15) + 700;
  const int best = ah4j_cpu_isa(-1);
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<std::tuple<const char*, float, int64_t, float, int32_t>> cases{
      // name, large value, where the large values start, what element 1000 becomes, flag
      {"1e20 in one block", 1e20f, 1024, 0.5f, 0},
      {"1.5e19 in one block", 1.5e19f, 1024, 0.5f, 0},
      {"1e20 in the last chunk's last block and tail", 1e20f, n - 200, 0.5f, 0},
      {"+inf among finite values", 1.0f, n, inf, 1},
      {"-inf among 1e20s", 1e20f, 512, -inf, 1},
      {"NaN among 1e20s", 1e20f, 512, std::numeric_limits<float>::quiet_NaN(), 1}};
  for (const auto& [name, large_value, large_from, at1000, flag] : cases) {
    const double large = large_value;
    const int64_t from = large_from;
    int64_t e = 0;
    AtenTensorHandle t = make_typed(aoti_torch_dtype_float32(), n, [&] {
      const int64_t i = e++;
      return i >= from && i < from + 512 ? large : std::sin(double(i));
    });
    void* data = nullptr;
    aoti_torch_get_data_ptr(t, &data);
    static_cast<float*>(data)[1000] = at1000;
    long double sq = 0;
    for (float x : values(t)) sq += static_cast<long double>(x) * x;
    ah4j_cpu_isa(0);
    const Stats baseline = stats_of(t);
    bool same = true;
    for (int isa = 1; isa <= best; ++isa) {
      ah4j_cpu_isa(isa);
      same &= stats_of(t) == baseline;
    }
    ah4j_cpu_isa(best);
    const bool sums_ok =
        flag == 1 || (std::isfinite(baseline.sq) &&
                      double(std::abs((baseline.sq - sq) / sq)) <= kFloat32StatsBound &&
                      baseline.sq == ordered_sums(values(t)).sq);
    expect(baseline.non_finite == flag && sums_ok && same,
           std::string("tensor_stats on float32, ") + name + ": flag " + std::to_string(flag) +
               (flag ? "" : ", the sum of squares finite, in the documented order") +
               ", the same bits with every instruction set");
    aoti_torch_delete_tensor_object(t);
  }
}

}  // namespace

// The memory-limit kernel: x = g - x for the parameter and both states, validated like the Adam
// step, cpu only.
void step_bytes_only_tests() {
  {
    Call c;
    aoti_torch_delete_tensor_object(c.m[1]);
    c.m[1] = make(6, 2);
    aoti_torch_delete_tensor_object(c.v[0]);
    c.v[0] = make(4, 3);
    expect(c.step_bytes_only() == AH4J_OK && values(c.p[1]) == std::vector<float>(6, -0.5f) &&
               values(c.m[1]) == std::vector<float>(6, -1.5f) &&
               values(c.v[0]) == std::vector<float>(4, -2.5f) &&
               values(c.g[0]) == std::vector<float>(4, 0.5f),
           "step_bytes_only: p, m, v become g - p, g - m, g - v; g stays");
  }
  check_call(
      "step_bytes_only with a grad of another shape",
      [](Call& c) {
        std::vector<AtenTensorHandle> swapped{c.g[1], c.g[0]};
        return ah4j_step_bytes_only_(c.h(c.p), c.h(swapped), c.h(c.m), c.h(c.v), 2);
      },
      AH4J_INVALID_ARGUMENT, "grads: expected shape [4]", 0);
  check_call(
      "step_bytes_only on a cuda param",
      [](Call& c) {
        fake_cuda = {c.p[0], c.p[1], c.g[0], c.g[1], c.m[0], c.m[1], c.v[0], c.v[1]};
        const int code = c.step_bytes_only();
        fake_cuda.clear();
        return code;
      },
      AH4J_INVALID_ARGUMENT,
      ah4j_has_cuda_kernels() ? "the memory-limit kernel has no CUDA kernel" : "no CUDA kernels",
      0);
}

// The chunk length setting of the C API.
void chunk_setting_tests() {
  const int64_t initial = ah4j_cuda_chunk_elements(0);
  expect(initial == kDefaultChunkElements, "the chunk length is 16,384 by default");
  bool rejected = true;
  for (int64_t bad : {-1024, 1, 512, 1000, 3000, 65535, 131072}) {
    rejected &= ah4j_cuda_chunk_elements(bad) == -1 && ah4j_cuda_chunk_elements(0) == initial;
  }
  expect(rejected, "chunk lengths that are not powers of two in [1,024, 65,536] are rejected");
  expect(ah4j_cuda_chunk_elements(1024) == 1024 && chunk_elements() == 1024 &&
             ah4j_cuda_chunk_elements(65536) == 65536 && chunk_elements() == 65536,
         "valid chunk lengths are set");
  ah4j_cuda_chunk_elements(initial);
}

// The calling thread's policy, read back by the kernel's own call (not the function under test).
int kernel_policy() { return sched_getscheduler(0); }

void thread_scheduling_tests() {
  int before = kernel_policy();
  expect(before == SCHED_OTHER, "the test starts on a SCHED_OTHER thread");
  expect(ah4j_thread_batch_scheduling(-1) == 0, "reading reports SCHED_OTHER as 0");
  expect(ah4j_thread_batch_scheduling(1) == 1 && kernel_policy() == SCHED_BATCH,
         "batch = 1 sets SCHED_BATCH on the calling thread");
  int inherited = -2, read = -2;
  std::thread child([&] {
    inherited = kernel_policy();
    read = ah4j_thread_batch_scheduling(-1);
  });
  child.join();
  expect(inherited == SCHED_BATCH && read == 1, "a thread started afterwards inherits SCHED_BATCH");
  expect(ah4j_thread_batch_scheduling(0) == 0 && kernel_policy() == SCHED_OTHER,
         "batch = 0 restores SCHED_OTHER");
  int other = -2;
  std::thread later([&] { other = kernel_policy(); });
  later.join();
  expect(other == SCHED_OTHER, "a thread started after the restore is SCHED_OTHER");
}

int main() {
  chunk_setting_tests();
  for (int64_t chunk : {kMinChunkElements, kDefaultChunkElements, kMaxChunkElements}) {
    planner_tests(chunk);
  }
  dispatch_tests();
  isa_tests();
  stats_tests();
  stats_order_tests();
  stats_float32_accuracy_tests();
  stats_float32_overflow_tests();
  step_bytes_only_tests();
  block_step_tests();
  thread_scheduling_tests();
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
