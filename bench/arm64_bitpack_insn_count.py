"""Executed aarch64 instructions per packed value of the bit-packers, counted exactly under qemu.

Like bench/arm64_insn_count.py (same plugin, Cortex-A72 model), for LceQuantize's work: the
portable packer and bitpack_neon.cpp on QuickNet-like shapes (56x56x64 and 7x7x512 activations,
contiguous rows) and a ragged one (C = 100: a padded last word per row), float and int8 inputs.
The workload (bench/arm64_bitpack_insn_count.cpp) checks NEON against portable before it exits.

    python bench/arm64_bitpack_insn_count.py   # needs bazel, g++-aarch64-linux-gnu, qemu-user
"""

from __future__ import annotations

import sys

from arm64_insn_count import build_plugin, build_workload, count_region

SHAPES = [(3136, 64), (49, 512), (300, 100)]  # (rows, channels)
VARIANTS = ("portable", "neon")


def main() -> int:
    workload, plugin = build_workload("arm64_bitpack_insn_count"), build_plugin()
    print("aarch64 (qemu, Cortex-A72 model) bit-packing: executed instructions per value")
    print(f"{'dtype':<7}{'rows x C':>12}" + "".join(f"{v:>11}" for v in VARIANTS) + f"{'ratio':>9}")
    for dtype in ("float", "int8"):
        for rows, channels in SHAPES:
            per_value = []
            for variant in VARIANTS:
                region, stdout = count_region(workload, plugin, [variant, dtype, str(rows), str(channels)])
                per_value.append(region / int(stdout.strip().removeprefix("values=")))
            print(f"{dtype:<7}{f'{rows}x{channels}':>12}" + "".join(f"{v:>11.3f}" for v in per_value)
                  + f"{per_value[0] / per_value[1]:>8.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
