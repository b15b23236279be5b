"""Instruction counts of the NEON binary GEMM under qemu (bench/arm64_insn_count.py).

Counts are exact and deterministic (a TCG plugin counts executed instructions), so unlike a
timing they can be asserted: the NEON micro-kernel must execute at least 4x fewer instructions
per binary MAC than a naive NEON popcount loop, and fewer than a per-output vectorized loop;
the NEON output stages (float, int8, bit-packed) at least 3x fewer per output than the portable
ones compiled for ARM.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys

import pytest
from arm64_support import REPO, require


def load_bench():
    spec = importlib.util.spec_from_file_location("arm64_insn_count",
                                                  REPO / "bench" / "arm64_insn_count.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_neon_bgemm_executes_4x_fewer_instructions_per_mac_than_naive_loop(bazel):
    require(shutil.which("dpkg-query") is not None and shutil.which("cc") is not None,
            "a host C compiler and dpkg (to build the qemu plugin)")
    counts = {c.variant: c for c in load_bench().measure(("naive-popcount", "naive-vector", "neon"))}
    naive, vector, neon = counts["naive-popcount"], counts["naive-vector"], counts["neon"]
    assert neon.per_mac * 4 <= naive.per_mac, counts
    assert neon.marginal_per_mac * 4 <= naive.marginal_per_mac, counts
    assert neon.per_mac < vector.per_mac, counts


@pytest.mark.slow
def test_neon_output_stages_execute_far_fewer_instructions_per_output_than_portable(bazel):
    require(shutil.which("dpkg-query") is not None and shutil.which("cc") is not None,
            "a host C compiler and dpkg (to build the qemu plugin)")
    counts = load_bench().measure_output_stages()
    per_output = {(c.variant, c.stage, c.k): c.per_output for c in counts}
    for (variant, stage, k), neon in per_output.items():
        if variant != "neon" or stage == "gemm":
            continue
        # Measured: float 4.1 vs 12.9, int8 5.4-6.9 vs 54.6, bits 1.7 vs 14.4.
        assert neon * 3 <= per_output[("portable", stage, k)], counts
