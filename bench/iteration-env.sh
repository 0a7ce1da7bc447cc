# Sourced by bench/compare.sh and bench/profile-iteration.sh (from the repository root): the
# settings both run iterations under. tuned: glibc told to keep freed memory, the GLIBC_TUNABLES
# equivalent of NativeMemory.keepFreedMemory(); classpath: the bench module's classes and
# dependencies (build first: mvn -B install -DskipTests).
# shellcheck shell=bash
# shellcheck source=bench/tuned.sh
source bench/tuned.sh
export OPENBLAS_NUM_THREADS=1 # OpenBLAS's own pool fights libtorch's OpenMP threads (README)
cp_file="$PWD/bench/target/classpath.txt"
mvn -B -q -o -pl bench dependency:build-classpath -Dmdep.outputFile="$cp_file" >/dev/null
classpath="bench/target/classes:$(cat "$cp_file")"
export tuned classpath
