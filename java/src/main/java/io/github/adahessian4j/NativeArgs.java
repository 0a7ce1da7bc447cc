package io.github.adahessian4j;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.pytorch.Tensor;

/**
 * The native argument arrays of one optimizer, each named for the argument it carries (a list of
 * tensor handles, of longs, of doubles or of ints, one entry per parameter). They are allocated
 * once per parameter count, so a step allocates no native memory of its own, and grow with it when
 * groups are added.
 */
final class NativeArgs implements AutoCloseable {
  private final List<Arg<?>> all = new ArrayList<>();
  private int capacity;

  /** One argument array; {@link #get()} is what the native call takes. */
  abstract static class Arg<P extends Pointer> {
    private final int width;
    P pointer;

    Arg(int width) {
      this.width = width;
    }

    abstract P allocate(long size);

    P get() {
      return pointer;
    }

    void resize(int capacity) {
      P old = pointer;
      pointer = Natives.keep(allocate((long) Math.max(1, capacity) * width));
      if (old != null) {
        old.close();
      }
    }
  }

  /** Tensor handles. */
  static final class Tensors extends Arg<PointerPointer<Tensor>> {
    Tensors() {
      super(1);
    }

    @Override
    PointerPointer<Tensor> allocate(long size) {
      return new PointerPointer<>(size);
    }

    void put(int k, Tensor t) {
      pointer.put(k, t);
    }
  }

  /** 64-bit integers. */
  static final class Longs extends Arg<LongPointer> {
    Longs() {
      super(1);
    }

    @Override
    LongPointer allocate(long size) {
      return new LongPointer(size);
    }

    void put(int k, long value) {
      pointer.put(k, value);
    }

    long get(int k) {
      return pointer.get(k);
    }
  }

  /** 32-bit integers. */
  static final class Ints extends Arg<IntPointer> {
    Ints() {
      super(1);
    }

    @Override
    IntPointer allocate(long size) {
      return new IntPointer(size);
    }

    void put(int k, int value) {
      pointer.put(k, value);
    }

    int get(int k) {
      return pointer.get(k);
    }
  }

  /** Doubles, {@code width} per parameter (a row-major table). */
  static final class Doubles extends Arg<DoublePointer> {
    Doubles(int width) {
      super(width);
    }

    @Override
    DoublePointer allocate(long size) {
      return new DoublePointer(size);
    }

    void put(long index, double value) {
      pointer.put(index, value);
    }

    double get(long index) {
      return pointer.get(index);
    }
  }

  private <A extends Arg<?>> A add(A arg) {
    arg.resize(capacity);
    all.add(arg);
    return arg;
  }

  Tensors tensors() {
    return add(new Tensors());
  }

  Longs longs() {
    return add(new Longs());
  }

  Ints ints() {
    return add(new Ints());
  }

  Doubles doubles(int width) {
    return add(new Doubles(width));
  }

  /** Makes every array hold {@code n} parameters (reallocating; contents are not kept). */
  void capacity(int n) {
    if (n <= capacity) {
      return;
    }
    capacity = n;
    for (Arg<?> arg : all) {
      arg.resize(n);
    }
  }

  @Override
  public void close() {
    for (Arg<?> arg : all) {
      if (arg.pointer != null) {
        arg.pointer.close();
        arg.pointer = null;
      }
    }
  }
}
