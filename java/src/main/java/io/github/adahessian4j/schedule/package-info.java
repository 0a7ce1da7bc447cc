/**
 * Learning-rate schedules for this library's optimizers, with the names, parameters, defaults and
 * step-by-step semantics of {@code torch.optim.lr_scheduler} (checked against torch 1.13 to 1e-12
 * relative at every step: {@code ScheduleParityTest}).
 *
 * <p>Epoch- or iteration-driven schedules extend {@link
 * io.github.adahessian4j.schedule.LrScheduler} and advance with {@link
 * io.github.adahessian4j.schedule.LrScheduler#step() step()}: {@link
 * io.github.adahessian4j.schedule.ConstantLR}, {@link io.github.adahessian4j.schedule.StepLR},
 * {@link io.github.adahessian4j.schedule.MultiStepLR}, {@link
 * io.github.adahessian4j.schedule.ExponentialLR}, {@link
 * io.github.adahessian4j.schedule.CosineAnnealingLR}, {@link
 * io.github.adahessian4j.schedule.LinearLR}, {@link io.github.adahessian4j.schedule.SequentialLR}
 * and {@link io.github.adahessian4j.schedule.OneCycleLR}. {@link
 * io.github.adahessian4j.schedule.ReduceLROnPlateau} is driven by a metric, {@link
 * io.github.adahessian4j.schedule.ReduceLROnPlateau#step(double) step(metric)}; as in torch 1.13 it
 * is not an {@code LrScheduler} and cannot be a child of a {@code SequentialLR}.
 *
 * <p>As in torch, a schedule is built after the optimizer and stepped after the optimizer: building
 * it already sets every group's lr to the schedule's first value (a {@code LinearLR} warm-up
 * multiplies it by {@code startFactor} at once), and each {@code step()} sets the lr for the next
 * optimizer step. Every scheduler's state can be saved to a stream and loaded into a scheduler
 * built the same way, so a resumed run continues the same schedule. Schedulers are not thread-safe:
 * step them from the thread that steps the optimizer.
 */
package io.github.adahessian4j.schedule;
