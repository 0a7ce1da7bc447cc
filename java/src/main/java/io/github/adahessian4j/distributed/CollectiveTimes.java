package io.github.adahessian4j.distributed;

/**
 * Where this rank's collectives ({@link ProcessGroup#allReduceMean}, {@code broadcast}, {@code
 * barrier}) spent their time since the group was formed, in nanoseconds of {@link
 * System#nanoTime()}; take the difference of two readings for an interval. {@link
 * ProcessGroup#collectiveTimes()} gives it.
 *
 * @param calls the collectives called
 * @param check the collective check: validating the tensors and the header's all-reduce, which no
 *     rank leaves before every rank has entered it, so it holds this rank's wait for the slowest
 *     rank to call the collective (0 with {@code verifyCollectives(false)}, except for barriers)
 * @param pack copying several tensors into a bucket's staging buffer (a tensor that fills a bucket
 *     alone is not copied)
 * @param transfer the backend's collectives on the buckets (Gloo's all-reduce or broadcast, waited
 *     for)
 * @param divide dividing the all-reduced sums by the world size
 * @param unpack copying the buckets back into the tensors
 * @param total the whole calls: the phases, and the rest: validating the tensors and reading their
 *     shapes, and planning and staging the buckets of a list whose dtypes and shapes the group has
 *     not kept (see {@link ProcessGroup})
 */
public record CollectiveTimes(
    long calls, long check, long pack, long transfer, long divide, long unpack, long total) {}
