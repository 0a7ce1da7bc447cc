package consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.adahessian4j.AdaHessian;
import io.github.adahessian4j.Adam;
import io.github.adahessian4j.AdamW;
import io.github.adahessian4j.Optimizer;
import io.github.adahessian4j.nativecore.ah4j;
import java.io.File;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.function.BiFunction;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * What a user of the published artifacts does: train a tiny MLP on random data with each
 * optimizer, and check that the loss went down. Also checks that the library's classes and
 * natives come from the installed jars, not from the reactor's build folders.
 */
class ConsumerTest {
  private static final int FEATURES = 8;
  private static final int CLASSES = 3;
  private static final int SAMPLES = 128;
  private static final int STEPS = 25;
  private static final String VERSION = "0.1.0-SNAPSHOT";

  /** 8-16-3, tanh. */
  private static final class Mlp extends Module {
    final LinearImpl hidden = register_module("hidden", new LinearImpl(FEATURES, 16));
    final LinearImpl out = register_module("out", new LinearImpl(16, CLASSES));

    Tensor forward(Tensor x) {
      return out.forward(torch.tanh(hidden.forward(x)));
    }
  }

  /** Gaussian features; labels from a random linear teacher, so there is something to learn. */
  private static Tensor[] data() {
    Random r = new Random(7);
    float[] w = new float[FEATURES * CLASSES];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) r.nextGaussian();
    }
    float[] xs = new float[SAMPLES * FEATURES];
    long[] ys = new long[SAMPLES];
    for (int s = 0; s < SAMPLES; s++) {
      double best = Double.NEGATIVE_INFINITY;
      for (int f = 0; f < FEATURES; f++) {
        xs[s * FEATURES + f] = (float) r.nextGaussian();
      }
      for (int c = 0; c < CLASSES; c++) {
        double score = 0;
        for (int f = 0; f < FEATURES; f++) {
          score += xs[s * FEATURES + f] * w[f * CLASSES + c];
        }
        if (score > best) {
          best = score;
          ys[s] = c;
        }
      }
    }
    return new Tensor[] {AbstractTensor.create(xs, SAMPLES, FEATURES), AbstractTensor.create(ys, SAMPLES)};
  }

  private static double loss(Mlp model, Tensor[] d) {
    try (PointerScope scope = new PointerScope()) {
      return torch.cross_entropy_loss(model.forward(d[0]), d[1]).item_double();
    }
  }

  /** An optimizer over a model's parameters and one training step with it. */
  private record Run(Optimizer optimizer, Runnable step) {}

  private static Tensor crossEntropy(Mlp model, Tensor[] d) {
    return torch.cross_entropy_loss(model.forward(d[0]), d[1]);
  }

  /** Trains a fresh model for STEPS full-batch steps and checks that its loss went down. */
  private static void train(String name, BiFunction<Mlp, Tensor[], Run> make) {
    torch.manual_seed(1);
    Mlp model = new Mlp();
    Tensor[] d = data();
    double before = loss(model, d);
    Run run = make.apply(model, d);
    try (Optimizer opt = run.optimizer()) {
      for (int i = 0; i < STEPS; i++) {
        try (PointerScope scope = new PointerScope()) {
          run.step().run();
        }
      }
    }
    double after = loss(model, d);
    System.out.printf("%-10s loss %.4f -> %.4f after %d steps%n", name, before, after, STEPS);
    assertTrue(Double.isFinite(after), name + ": loss is not finite");
    assertTrue(after < 0.8 * before,
        name + ": loss did not decrease by 20%: " + before + " -> " + after);
  }

  // Adam: PyTorch's own form, zeroGrad(), backward(), step(). AdamW and AdaHessian: the closure
  // form every optimizer shares, step(closure returning the loss).

  @Test
  void adamTrains() {
    train("Adam", (model, d) -> {
      Adam opt = Adam.builder().lr(0.02).build(model.parameters());
      return new Run(opt, () -> {
        opt.zeroGrad();
        crossEntropy(model, d).backward();
        opt.step();
      });
    });
  }

  @Test
  void adamWTrains() {
    train("AdamW", (model, d) -> {
      Optimizer opt = AdamW.builder().lr(0.02).weightDecay(1e-2).build(model.parameters());
      return new Run(opt, () -> opt.step(() -> crossEntropy(model, d)));
    });
  }

  @Test
  void adaHessianTrains() {
    train("AdaHessian", (model, d) -> {
      AdaHessian opt = AdaHessian.builder().lr(0.15).build(model.parameters());
      return new Run(opt, () -> opt.step(() -> crossEntropy(model, d)));
    });
  }

  /** The classes come from the installed jars, the natives from the linux-x86_64 classifier jar. */
  @Test
  void libraryComesFromTheInstalledJars() throws Exception {
    String api = jarOf(Adam.class);
    String bindings = jarOf(ah4j.class);
    System.out.println("io.github.adahessian4j.Adam from " + api);
    System.out.println("io.github.adahessian4j.nativecore.ah4j from " + bindings);
    assertEquals("adahessian4j-" + VERSION + ".jar", new File(api).getName());
    assertEquals("adahessian4j-presets-" + VERSION + ".jar", new File(bindings).getName());

    URL jni = ah4j.class.getResource("/io/github/adahessian4j/linux-x86_64/libjniah4j.so");
    assertNotNull(jni, "libjniah4j.so is not on the class path");
    System.out.println("libjniah4j.so from " + jni);
    assertTrue(jni.toString().startsWith("jar:file:")
            && jni.toString().contains("/adahessian4j-presets-" + VERSION + "-linux-x86_64.jar!/"),
        "the natives do not come from the linux-x86_64 classifier jar: " + jni);
    try (Adam warm = Adam.builder().build(new Mlp().parameters())) {
      // building an optimizer loads the core; Loader.load then names the file it loaded
    }
    // .ci/consumer.sh compares these files with the ones the reactor built
    String natives = jni.toString().substring("jar:file:".length(), jni.toString().indexOf("!/"));
    Files.writeString(Path.of(System.getProperty("consumer.basedir"), "target", "used-jars.txt"),
        api + "\n" + bindings + "\n" + Path.of(new URL("file:" + natives).toURI()) + "\n");
    String loaded = Loader.load(ah4j.class);
    System.out.println("JavaCPP loaded " + loaded);
    assertTrue(loaded.contains("adahessian4j-presets-" + VERSION + "-linux-x86_64.jar"),
        "JavaCPP did not extract the natives from the classifier jar: " + loaded);

    // Nothing on the test class path lies in the project this check sits in, except this
    // consumer's own target folder: no reactor classes, no presets/target/classes natives.
    Path reactor = Path.of(System.getProperty("consumer.reactorRoot")).toRealPath();
    Path self = Path.of(System.getProperty("consumer.basedir")).toRealPath();
    String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    int entries = 0;
    boolean hasApiJar = false;
    for (String entry : classPath.split(File.pathSeparator)) {
      if (entry.isEmpty()) {
        continue;
      }
      entries++;
      Path p = Path.of(entry).toAbsolutePath().normalize();
      hasApiJar |= p.equals(Path.of(api));
      assertFalse(p.startsWith(reactor) && !p.startsWith(self),
          "the consumer sees the reactor's build output: " + entry);
    }
    System.out.println(entries + " test class path entries, none from the reactor's build folders");
    assertTrue(hasApiJar, "the class path checked is not the test's: " + classPath);
  }

  private static String jarOf(Class<?> c) throws Exception {
    return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
  }
}
