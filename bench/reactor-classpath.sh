#!/usr/bin/env bash
# Sourced by the benchmark scripts that start JVMs of their own (dp-bench.sh, link-bench.sh,
# dp-hosts.sh) or run JMH (run-step-benchmarks.sh, step-vs-torch26.sh), from the repository root:
# builds presets, java and bench through the reactor (no installed artifact of this project is
# used, offline) and sets $classpath, relative to the repository root: the reactor's own classes,
# then bench's third-party dependencies.
cp_file="$PWD/bench/target/reactor-classpath.txt"
mvn -B -q -o -pl presets,java,bench package -DskipTests dependency:build-classpath \
  -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=runtime >/dev/null
# the file holds the classpath bench wrote last; the reactor's modules come from their classes
classpath="bench/target/classes:java/target/classes:presets/target/classes"
classpath="$classpath:$(tr ':' '\n' < "$cp_file" | grep -v '/adahessian4j' | paste -sd:)"
export classpath
