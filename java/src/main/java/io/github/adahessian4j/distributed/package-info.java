/**
 * Data-parallel training across processes and machines on libtorch's c10d (Gloo; NCCL with the
 * {@code -gpu} natives): {@link io.github.adahessian4j.distributed.ProcessGroup} (rendezvous,
 * checked and bucketed all-reduce and broadcast, the optimizers' {@link
 * io.github.adahessian4j.ReplicaMean}), {@link
 * io.github.adahessian4j.distributed.DistributedSampler} (each rank's shard of an epoch) and {@link
 * io.github.adahessian4j.distributed.Launcher} (N processes on one machine, as torchrun's {@code
 * --nproc-per-node}; one per machine across machines; {@code --max-restarts}) and {@link
 * io.github.adahessian4j.distributed.TrainingState} (a run's save and resume, one call each).
 */
package io.github.adahessian4j.distributed;
