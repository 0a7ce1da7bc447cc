#!/usr/bin/env bash
# The parity suite on torch 2.6 (a stage of .ci/run): Debian trixie's torch 2.6 (torch26.sh, a
# cached chroot) writes the fixtures of parity.py (with --fused: every Adam and AdamW case also
# against torch's fused=True), schedule_parity.py, hessian_parity.py and torchscript_parity.py
# (its models exported by torch 2.6, with a transformer on SDPA) into java/target/*-torch26, and
# PythonParityTest, ScheduleParityTest, HessianParityTest and TorchScriptParityTest replay them at
# their usual tolerances; TorchScriptModelTest checks torch 2.6's exports of its bad input, and
# TorchScriptRoundTripTest loads the modules it trains and saves in torch 2.6
# (torchscript_forward.py through torch26.sh); TorchScriptExecutorTest runs Hessian-vector products
# through its exports in evaluation mode. Needs root (torch26.sh), the reactor installed (mvn
# install), and torch 1.13 on the host (install-reference.sh), since the java module's build
# writes its fixtures as well.
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$SECONDS
t="$PWD/java/target"
bench/python/torch26.sh install
# --force: the fixtures' fingerprint covers the scripts and the torch and numpy versions, not the
# BLAS that a rebuilt root loads.
bench/python/torch26.sh run parity.py --fused --force --out "$t/parity-torch26"
bench/python/torch26.sh run schedule_parity.py --out "$t/schedule-parity-torch26"
bench/python/torch26.sh run hessian_parity.py --out "$t/hessian-parity-torch26"
bench/python/torch26.sh run torchscript_parity.py --out "$t/torchscript-parity-torch26"
tests=PythonParityTest,ScheduleParityTest,HessianParityTest
tests+=,TorchScriptParityTest,TorchScriptModelTest,TorchScriptRoundTripTest,TorchScriptExecutorTest
mvn -B -q -pl java test -Dtest="$tests" -Dsurefire.failIfNoSpecifiedTests=false \
  -Dadahessian4j.parity.dir="$t/parity-torch26" -Dadahessian4j.parity.fused=true \
  -Dadahessian4j.scheduleParity.dir="$t/schedule-parity-torch26" \
  -Dadahessian4j.hessian.dir="$t/hessian-parity-torch26" \
  -Dadahessian4j.torchscript.dir="$t/torchscript-parity-torch26" \
  -Dadahessian4j.torchscript.python="$PWD/bench/python/torch26.sh run"
echo "parity on torch 2.6: $((SECONDS - start)) s"
