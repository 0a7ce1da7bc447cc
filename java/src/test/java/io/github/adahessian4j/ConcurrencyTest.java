package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** Independent optimizers run on threads side by side; one optimizer on two threads is refused. */
class ConcurrencyTest {

  private static List<double[]> train(long seed) {
    try (PointerScope scope = new PointerScope()) {
      TestModel model = new TestModel(torch.ScalarType.Double, seed);
      try (AdaHessian opt = AdaHessian.builder().lr(0.05).seed(seed).build(model.params)) {
        for (int i = 0; i < 30; i++) {
          try (PointerScope step = new PointerScope()) {
            opt.step(model::loss);
          }
        }
      }
      List<double[]> out = new ArrayList<>();
      for (Tensor p : model.params) {
        out.add(T.values(p));
      }
      return out;
    }
  }

  @Test
  void independentOptimizersOnFourThreadsMatchSequentialRuns() throws Exception {
    List<List<double[]>> sequential = new ArrayList<>();
    for (long seed = 1; seed <= 4; seed++) {
      sequential.add(train(seed));
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<List<double[]>>> futures = new ArrayList<>();
      for (long seed = 1; seed <= 4; seed++) {
        long s = seed;
        futures.add(pool.submit(() -> train(s)));
      }
      for (int r = 0; r < 4; r++) {
        List<double[]> concurrent = futures.get(r).get(120, TimeUnit.SECONDS);
        for (int i = 0; i < concurrent.size(); i++) {
          assertArrayEquals(
              sequential.get(r).get(i), concurrent.get(i), 0.0, "run " + r + ", parameter " + i);
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void oneOptimizerOnTwoThreadsAtOnceIsRefused() throws Exception {
    try (PointerScope scope = new PointerScope()) {
      Tensor x = T.randomParam(1, torch.ScalarType.Float, 5);
      try (AdaHessian opt = AdaHessian.builder().build(List.of(x))) {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<Throwable> second = new AtomicReference<>();
        Thread first =
            new Thread(
                () ->
                    opt.step(
                        () -> {
                          inside.countDown();
                          try {
                            release.await();
                          } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                          }
                          return x.square().sum();
                        }));
        first.start();
        inside.await();
        try {
          opt.step(() -> x.square().sum());
        } catch (IllegalStateException e) {
          second.set(e);
        } finally {
          release.countDown();
        }
        first.join();
        assertEquals(
            "optimizer is already stepping on another thread: one optimizer must not be "
                + "used by two threads at once",
            second.get().getMessage());
        assertEquals(1, opt.stepCount(0)); // the first thread's step went through
      }
    }
  }
}
