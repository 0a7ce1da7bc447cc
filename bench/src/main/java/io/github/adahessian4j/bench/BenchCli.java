package io.github.adahessian4j.bench;

import io.github.adahessian4j.bench.compare.Compare;
import io.github.adahessian4j.bench.compare.DataParallelBenchmark;
import io.github.adahessian4j.bench.compare.HessianCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The command line of the bench module: {@code compare} (Adam vs AdaHessian, measured), {@code
 * hessian} (Hessian analysis of the demo's model: Lanczos vs power iteration, trace, spectral
 * density), {@code example} (a quick training run, also what runs without a command) and {@code
 * dp-bench} (data-parallel throughput over processes).
 */
@Command(
    name = "adahessian4j-bench",
    mixinStandardHelpOptions = true,
    subcommands = {Compare.class, HessianCommand.class, Example.class, DataParallelBenchmark.class},
    description = "AdaHessian4J demos. Without a command: the quick example.")
public final class BenchCli implements Runnable {
  @Override
  public void run() {
    new CommandLine(new Example()).execute();
  }

  /**
   * Builds the command line with this module's conventions (case-insensitive enum values such as
   * --model CNN).
   */
  public static CommandLine commandLine() {
    return new CommandLine(new BenchCli()).setCaseInsensitiveEnumValuesAllowed(true);
  }

  public static void main(String[] args) {
    int status = commandLine().execute(args);
    if (status != 0) {
      System.exit(status);
    }
  }
}
