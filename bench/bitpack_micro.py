"""Bit-packing (LceQuantize) micro-benchmark: ns per value of every variant, side by side.

    python bench/bitpack_micro.py [--variants portable,avx2,avx512] [--iterations 100]

Shapes are QuickNet-like activations (rows = pixels, C = channels) plus ragged channel counts.
Each cell is the median of back-to-back single-thread runs timed in C++ (kernels.time_bitpack).
"""

from __future__ import annotations

import argparse

import numpy as np
from larq_compute._native import kernels

# (rows, channels)
SHAPES = [(112 * 112, 32), (56 * 56, 64), (28 * 28, 128), (14 * 14, 256), (7 * 7, 512),
          (56 * 56, 100), (28 * 28, 3), (64, 1000)]


def ns_per_value(x: np.ndarray, variant: str, iterations: int, zero_point: int = 0) -> float:
    seconds = kernels.time_bitpack(x, iterations, zero_point=zero_point, variant=variant)
    return float(np.median(seconds)) / x.size * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", default=",".join(kernels.available_variants()))
    parser.add_argument("--iterations", type=int, default=100)
    args = parser.parse_args()
    variants = args.variants.split(",")
    rng = np.random.default_rng(0)
    header = " ".join(f"{v + ' ns/val':>14s}" for v in variants)
    speedups = " ".join(f"{v + '/portable':>16s}" for v in variants if v != "portable")
    print(f"{'dtype':6s} {'rows x C':>12s} {header} {speedups}")
    for dtype in ["float32", "int8"]:
        for rows, channels in SHAPES:
            if dtype == "float32":
                x = rng.standard_normal((rows, channels)).astype(np.float32)
                zero_point = 0
            else:
                x = rng.integers(-128, 128, size=(rows, channels), dtype=np.int8)
                zero_point = -3
            times = {v: ns_per_value(x, v, args.iterations, zero_point) for v in variants}
            cells = " ".join(f"{times[v]:14.3f}" for v in variants)
            ratios = " ".join(f"{times['portable'] / times[v]:15.1f}x" for v in variants
                              if v != "portable" and "portable" in times)
            print(f"{dtype:6s} {f'{rows}x{channels}':>12s} {cells} {ratios}")


if __name__ == "__main__":
    main()
