/*
 * AdaHessian4J native core: the whole C API.
 *
 * Every entry point works on lists of tensors for all parameters at once (one call per step).
 * Tensors are passed as borrowed handles: each `void*` is an `AtenTensorHandle` of libtorch's
 * stable C shim (an `at::Tensor*`, which is what a JavaCPP `org.bytedeco.pytorch.Tensor`'s
 * address() is). The core never takes ownership of, frees or keeps a handle after returning.
 *
 * Every function returns AH4J_OK or an error code; no C++ exception crosses this boundary. On an
 * error nothing has been written to any tensor; ah4j_last_error() and ah4j_last_error_index()
 * (thread-local) tell what was wrong and with which parameter.
 */
#ifndef ADAHESSIAN4J_H
#define ADAHESSIAN4J_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes. */
#define AH4J_OK 0
#define AH4J_INVALID_ARGUMENT 1 /* input rejected before anything was written */
#define AH4J_TORCH_ERROR 2      /* libtorch's C shim reported a failure while reading a tensor */
/* AH4J_CUDA_ERROR: the CUDA runtime failed (no stream, launch failure); all inputs were valid,
   and kernels launched before the failure may have written their tensors. */
#define AH4J_CUDA_ERROR 3

/* Bumped whenever a signature or the meaning of an argument changes. */
#define AH4J_ABI_VERSION 4

/* Columns of the per-parameter hyperparameter table: a row-major double[count * AH4J_HP_COUNT]. */
#define AH4J_HP_LR 0
#define AH4J_HP_BETA1 1
#define AH4J_HP_BETA2 2
#define AH4J_HP_EPS 3
#define AH4J_HP_WEIGHT_DECAY 4
#define AH4J_HP_HESSIAN_POWER 5 /* AdaHessian only; ignored by the Adam step */
#define AH4J_HP_COUNT 6

/* Per-parameter flags of the Adam step (bitwise or). */
#define AH4J_ADAM_AMSGRAD 1
#define AH4J_ADAM_MAXIMIZE 2
#define AH4J_ADAM_DECOUPLED_WEIGHT_DECAY 4 /* AdamW: p *= 1 - lr * weight_decay */

/* The version this library was built with (AH4J_ABI_VERSION). */
int ah4j_abi_version(void);

/* Message of the last failed call on this thread ("" when none). Borrowed; valid until the next
 * call. */
const char* ah4j_last_error(void);

/* Index (into the lists of the last failed call) of the culprit parameter, or -1 if none. */
int64_t ah4j_last_error_index(void);

/*
 * Reads a tensor through the C shim, for the load-time self-check that the handle convention
 * still holds: numel, dtype (the shim's code) and data pointer. `tensor` is borrowed.
 */
int ah4j_tensor_info(void* tensor, int64_t* numel, int32_t* dtype, void** data);

/* The shim's dtype code of float32 (to compare with ah4j_tensor_info's). */
int32_t ah4j_dtype_float32(void);

/*
 * Opt-in, process-wide: tells glibc's malloc to keep freed memory for reuse instead of handing it
 * back to the kernel (which then faults it in again on the next iteration): allocations below
 * mmap_threshold bytes come from the heap, the heap is trimmed only when trim_threshold bytes are
 * free at its top, and every heap grows with top_pad bytes to spare. The last one matters for
 * threads other than the process's first (a JVM's main thread among them): glibc serves them from
 * arenas of 64 MiB heaps and deletes a heap as soon as it is wholly free, whatever the trim
 * threshold, unless the top pad covers it. glibc's mallopt(M_MMAP_THRESHOLD), (M_TRIM_THRESHOLD)
 * and (M_TOP_PAD); the same as GLIBC_TUNABLES=glibc.malloc.mmap_threshold=..:
 * glibc.malloc.trim_threshold=..:glibc.malloc.top_pad=.. set before the process starts. Returns 1
 * if glibc accepted all three, else 0 (not glibc, or a value out of range; then nothing may have
 * changed).
 */
int ah4j_malloc_keep_freed(int64_t mmap_threshold, int64_t trim_threshold, int64_t top_pad);

/*
 * Linux's scheduling policy of the calling thread, and so of the threads it starts afterwards
 * (they inherit it): batch = 1 sets SCHED_BATCH, batch = 0 the default SCHED_OTHER, both at nice
 * value unchanged; batch < 0 only reads. A SCHED_BATCH thread that wakes up does not preempt the
 * thread running on its core: the process group sets it on the thread that creates Gloo's threads,
 * whose network loop otherwise preempts the worker that holds a connection's lock and spins until
 * its time slice ends. Returns 1 if the thread's policy is SCHED_BATCH afterwards, 0 if it is
 * another one, -1 if the call failed or this is not Linux (nothing changed).
 */
int ah4j_thread_batch_scheduling(int batch);

/*
 * 1 if this build of the core has the CUDA kernels, else 0. Every entry point below dispatches on
 * its tensors' device: all tensors of one call must be on one device (cpu, or one cuda device).
 * CUDA work is launched asynchronously, multi-tensor, on the device's current stream of libtorch
 * (the stream torch.cuda.current_stream() / c10::cuda::getCurrentCUDAStream() names), and gives
 * the same bits as the CPU loops (except a Hessian power other than 1 and 0.5, and block averaging
 * over blocks of more than 64 elements, which may differ in the last bit). Without the kernels, a
 * call with cuda tensors fails with AH4J_INVALID_ARGUMENT and writes nothing.
 */
int ah4j_has_cuda_kernels(void);

/*
 * Tuning of the CUDA launches: the elements of a tensor that one CUDA block updates (a chunk;
 * block-averaged AdaHessian parameters use their own chunks of whole blocks). elements > 0 sets it
 * for the process (a power of two from 1,024 to 65,536; the default is 16,384); 0 only reads it.
 * Returns the value in effect, or -1 (and nothing changes) for any other value. Results do not
 * depend on it. Calls in flight on other threads use the value they started with.
 */
int64_t ah4j_cuda_chunk_elements(int64_t elements);

/*
 * The instruction set of the CPU loops: 0 the x86-64 baseline (SSE2), 1 AVX2 (x86-64-v3),
 * 2 AVX-512 (x86-64-v4). The default is the best this CPU has. isa >= 0 sets it for the process
 * if the CPU has it; a negative isa only reads it. Returns the value in effect, or -1 (and nothing
 * changes) for one the CPU lacks. Every setting gives the same bits (for tests and benchmarks).
 */
int ah4j_cpu_isa(int isa);

/*
 * Fills each zs[i] with Rademacher +-1 probes drawn from the counter-based generator
 *   z[e] = bit(e) ? +1 : -1, bit(e) = (mix64(stream ^ (e >> 6)) >> (e & 63)) & 1,
 *   stream = mix64(mix64(mix64(seed) ^ counter) ^ param_ids[i])
 * where mix64 is SplitMix64's step (add 0x9E3779B97F4A7C15, then its finaliser). The same
 * (seed, counter, param id) gives the same z for any thread count and device.
 */
int ah4j_rademacher_(void* const* zs, const int64_t* param_ids, int64_t count, uint64_t seed,
                     uint64_t counter);

/*
 * Finds the first of `count` floating tensors that holds NaN or infinity: *first_non_finite is
 * its index, or -1 when all are finite. Reads each element once (the cheap check a step runs
 * before it writes anything). CPU tensors only in this version.
 */
int ah4j_find_non_finite(void* const* tensors, int64_t count, int64_t* first_non_finite);

/*
 * The one read of `count` floating tensors that a step makes before it writes anything, for both
 * the non-finite check and the step's statistics (gradient norms for clipping, the Hessian
 * estimate's mean and max). Per tensor i:
 *   non_finite[i] = 1 if it holds NaN or infinity, else 0 (exact, also where a sum overflows);
 *   sum_sq[i] = sum of x^2,  sum_abs[i] = sum of |x|,  max_abs[i] = max of |x| (0 when empty).
 * The sums are accumulated in a fixed order (per chunk, in 32 lanes; chunks in order), so they
 * are the same for any thread count and instruction set. float64, float16 and bfloat16 tensors
 * are summed in double; float32 ones in float within blocks of 16 elements per lane, the blocks'
 * sums in double (a block whose float sums overflow is summed in double instead): each sum is
 * within 1e-6 of exact, relative (torch.nn.utils.clip_grad_norm_ sums float32 in float32).
 * max_abs is exact. Where non_finite[i] is 1 the other three are meaningless. sum_abs and max_abs
 * may each be NULL: that statistic is then not computed and its output not written (a gradients'
 * pass for 2-norm clipping needs neither). CPU tensors only in this version.
 */
int ah4j_tensor_stats(void* const* tensors, int64_t count, int32_t* non_finite, double* sum_sq,
                      double* sum_abs, double* max_abs);

/*
 * Hutchinson accumulation: diags[i] = (overwrite ? 0 : diags[i]) + scale * zs[i] * hzs[i].
 * diags are float32 for half/bfloat16/float32 inputs and float64 for float64 ones.
 */
int ah4j_hutchinson_accumulate_(void* const* diags, void* const* zs, void* const* hzs,
                                int64_t count, double scale, int32_t overwrite);

/*
 * Fused AdaHessian step (the authors' update) for `count` parameters. hessian_diags[i] is the
 * Hutchinson estimate D (its sign is ignored: |D| is used), of the parameter's dtype or its
 * state dtype. With b = block_sizes[i] (a divisor of numel), D is averaged over consecutive
 * blocks of b elements:  Dbar = mean_block |D|. Then, with t = steps[i] (already incremented):
 *   m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) Dbar^2
 *   denom = sqrt(v)^k / sqrt(1 - b2^t)^k + eps
 *   p = p - lr (m / (1 - b1^t) / denom + weight_decay p)
 * exp_avgs and exp_hessian_diag_sqs are float32 (float64 for float64 params).
 */
int ah4j_adahessian_step_(void* const* params, void* const* grads, void* const* hessian_diags,
                          void* const* exp_avgs, void* const* exp_hessian_diag_sqs, int64_t count,
                          const int64_t* block_sizes, const int64_t* steps, const double* hyper);

/*
 * Fused Adam / AdamW step with torch::optim::Adam's and AdamW's formulas. max_exp_avg_sqs may
 * hold null handles for parameters without AH4J_ADAM_AMSGRAD. steps[i] is already incremented.
 */
int ah4j_adam_step_(void* const* params, void* const* grads, void* const* exp_avgs,
                    void* const* exp_avg_sqs, void* const* max_exp_avg_sqs, int64_t count,
                    const int64_t* steps, const double* hyper, const int32_t* flags);

/*
 * The memory limit of the steps, for benchmarks: moves the Adam step's bytes with no step math.
 * For every element, x = g - x for x in params[i], exp_avgs[i] and exp_avg_sqs[i] (reads 4
 * streams, writes 3: 28 bytes per float32 parameter), on the chunks, threads and instruction set
 * of the CPU step loops. Validated as ah4j_adam_step_'s tensors are. Writes its tensors: never
 * call it on an optimizer's state. CPU tensors only.
 */
int ah4j_step_bytes_only_(void* const* params, void* const* grads, void* const* exp_avgs,
                          void* const* exp_avg_sqs, int64_t count);

#ifdef __cplusplus
}
#endif

#endif /* ADAHESSIAN4J_H */
