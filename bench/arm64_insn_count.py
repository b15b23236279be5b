"""Executed aarch64 instructions per binary MAC of the binary GEMM, and per output of its output
stages, counted exactly under qemu.

There is no ARM hardware here, so speed is compared on paper: qemu-aarch64 (Cortex-A72 model)
runs bench/arm64_bgemm_insn_count.cpp with the TCG plugin toolchain/qemu_plugins/insn_count.c,
which counts the instructions executed inside the marked GEMM. Two K sizes give the whole-call
cost and the marginal cost of K (the micro-kernel's inner loop, without per-call work).

    python bench/arm64_insn_count.py          # needs bazel, g++-aarch64-linux-gnu, qemu-user

Variants: naive-popcount (per output and 64-bit word: XOR, CNT, ADDV), naive-vector (per output:
128-bit XOR, CNT, UADALP), portable (the reference micro-kernel compiled for ARM) and neon.

Output stages (float, int8, bit-packed) of neon and portable: instructions per output over the
64 x 64 outputs, as the driver calls them per tile, at a small K (3x3x64 -> 64, K = 576, where
they weigh most against the GEMM) and the GEMM's K (3x3x256, K = 2304). int8-tested is int8
without OutputStage.int8_exact: every block takes the tie test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VARIANTS = ("naive-popcount", "naive-vector", "portable", "neon")
# A 3x3 binary convolution with 256 input channels: K = 9 taps x 8 words x 32 bits = 2304,
# over 64 output pixels x 64 output channels. The second size doubles K (18 taps).
PIXELS, CHANNELS, WORDS = 64, 64, 8
TAPS = (9, 18)
STAGES = ("float", "int8", "int8-tested", "bits")
STAGE_VARIANTS = ("portable", "neon")
# (taps, words) of the output-stage shapes: 3x3x64 (K = 576) and 3x3x256 (K = 2304).
STAGE_SHAPES = ((9, 2), (9, 8))


@dataclass
class Count:
    variant: str
    per_mac: float           # executed instructions per binary MAC at K = 2304
    marginal_per_mac: float  # extra instructions per extra MAC from K = 2304 to K = 4608


def build_workload(target: str = "arm64_bgemm_insn_count") -> Path:
    flags = ["--config=aarch64"]
    subprocess.run(["bazel", "build", *flags, f"//bench:{target}"], cwd=REPO,
                   check=True, capture_output=True, text=True)
    bin_dir = subprocess.run(["bazel", "info", *flags, "bazel-bin"], cwd=REPO, check=True,
                             capture_output=True, text=True).stdout.strip()
    return Path(bin_dir) / "bench" / target


def build_plugin() -> Path:
    out = subprocess.run([str(REPO / "scripts" / "arm64_qemu_plugin.sh")], check=True,
                         capture_output=True, text=True).stdout
    return Path(out.strip().splitlines()[-1])


def count_region(workload: Path, plugin: Path, args: list[str]) -> tuple[int, str]:
    """(instructions executed inside the program's one marked region, its stdout)."""
    with tempfile.TemporaryDirectory() as tmp:
        counts = Path(tmp) / "counts.txt"
        env = dict(os.environ, LC_QEMU_PLUGIN=str(plugin), LC_QEMU_PLUGIN_ARGS=f"outfile={counts}")
        proc = subprocess.run([str(REPO / "toolchain" / "qemu_run.sh"), str(workload), *args],
                              env=env, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(f"{workload.name} {' '.join(args)} failed: {proc.stderr.strip()}")
        fields = dict(item.split("=") for item in counts.read_text().split())
    if fields["regions"] != "1":
        raise RuntimeError(f"{' '.join(args)}: expected one counted region, got {fields['regions']}")
    return int(fields["region"]), proc.stdout


def region_instructions(workload: Path, plugin: Path, variant: str, taps: int) -> tuple[int, int]:
    """(instructions inside the marked region, binary MACs) of one run."""
    region, stdout = count_region(workload, plugin,
                                  [variant, str(PIXELS), str(CHANNELS), str(taps), str(WORDS)])
    return region, int(stdout.strip().removeprefix("macs="))


@dataclass
class StageCount:
    variant: str
    stage: str
    k: int
    per_output: float  # executed instructions per output inside the stage's calls


def measure_output_stages(variants: tuple[str, ...] = STAGE_VARIANTS,
                          stages: tuple[str, ...] = STAGES) -> list[StageCount]:
    workload, plugin = build_workload(), build_plugin()
    results = []
    for taps, words in STAGE_SHAPES:
        # The NEON GEMM of the same outputs, for scale.
        region, stdout = count_region(workload, plugin, [
            "neon", str(PIXELS), str(CHANNELS), str(taps), str(words)])
        results.append(StageCount("neon", "gemm", 32 * taps * words, region / (PIXELS * CHANNELS)))
        for variant in variants:
            # The calling loop with an empty stage: subtracted, so only the stage is counted.
            loop, _ = count_region(workload, plugin, [
                variant, str(PIXELS), str(CHANNELS), str(taps), str(words), "none"])
            for stage in stages:
                region, stdout = count_region(workload, plugin, [
                    variant, str(PIXELS), str(CHANNELS), str(taps), str(words), stage])
                outputs = int(stdout.strip().removeprefix("outputs="))
                results.append(StageCount(variant, stage, 32 * taps * words, (region - loop) / outputs))
    return results


def measure(variants: tuple[str, ...] = VARIANTS) -> list[Count]:
    workload, plugin = build_workload(), build_plugin()
    results = []
    for variant in variants:
        (small, small_macs), (large, large_macs) = (
            region_instructions(workload, plugin, variant, taps) for taps in TAPS)
        results.append(Count(variant, small / small_macs,
                             (large - small) / (large_macs - small_macs)))
    return results


def main() -> int:
    results = measure()
    naive = results[0]
    k = 32 * WORDS * TAPS[0]
    print(f"aarch64 (qemu, Cortex-A72 model) binary GEMM {PIXELS}x{CHANNELS}, K={k}: "
          "executed instructions per binary MAC")
    print(f"{'variant':<16}{'per MAC':>10}{'marginal':>10}{'naive/x':>10}{'naive/x marg.':>15}")
    for r in results:
        print(f"{r.variant:<16}{r.per_mac:>10.4f}{r.marginal_per_mac:>10.4f}"
              f"{naive.per_mac / r.per_mac:>9.2f}x{naive.marginal_per_mac / r.marginal_per_mac:>14.2f}x")
    stages = measure_output_stages()
    print(f"\noutput stages, {PIXELS}x{CHANNELS} outputs: executed instructions per output "
          "(NEON GEMM per output at that K for scale)")
    print(f"{'K':>6}{'stage':>13}" + "".join(f"{v:>12}" for v in STAGE_VARIANTS) + f"{'NEON GEMM':>12}")
    for k in sorted({s.k for s in stages}):
        gemm = next(s.per_output for s in stages if s.k == k and s.stage == "gemm")
        for stage in STAGES:
            row = {s.variant: s.per_output for s in stages if s.k == k and s.stage == stage}
            print(f"{k:>6}{stage:>13}" + "".join(f"{row[v]:>12.2f}" for v in STAGE_VARIANTS) + f"{gemm:>12.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
