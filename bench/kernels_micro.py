"""Micro-benchmarks of the binary kernels: binary MACs/s and % of the AVX-512 popcount roofline.

    python bench/kernels_micro.py [--variants avx512,avx2] [--threads 1,2] [--iterations 200]

The roofline is measured on this core (back-to-back 512-bit VPOPCNTQ, one MAC per bit), with the
same statistic as the kernels (median of interleaved samples), so machine load affects both alike.
Every row runs all variants side by side; times are medians of back-to-back runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from larq_compute._native import kernels  # noqa: E402
from support import numpy_reference as ref  # noqa: E402

# (name, H, W, C_in, C_out, kernel, stride, padding) — ResNet/QuickNet-style binary layers.
CONV_LAYERS = [
    ("56x56x64->64 3x3", 56, 56, 64, 64, 3, 1, "same"),
    ("28x28x128->128 3x3", 28, 28, 128, 128, 3, 1, "same"),
    ("14x14x256->256 3x3", 14, 14, 256, 256, 3, 1, "same"),
    ("7x7x512->512 3x3", 7, 7, 512, 512, 3, 1, "same"),
    ("28x28x128->256 3x3 s2", 28, 28, 128, 256, 3, 2, "same"),
    ("14x14x512->512 1x1", 14, 14, 512, 512, 1, 1, "valid"),
    ("56x56x100->64 3x3 (odd C)", 56, 56, 100, 64, 3, 1, "same"),
]


def roofline(samples: int = 15) -> float:
    """Median over short windows, like the kernel timings (not the best window)."""
    return float(np.median([kernels.avx512_popcount_roofline(0.01) for _ in range(samples)]))


def bench_conv(args, rng, roof: float) -> None:
    print(f"{'layer':28s} {'output':9s} {'variant':8s} {'thr':>3s} {'time us':>9s} {'GMAC/s':>8s} {'% roof':>7s}")
    for name, h, w, cin, cout, k, stride, padding in CONV_LAYERS:
        x = ref.bitpack(ref.random_signs(rng, (1, h, w, cin)))
        f = ref.bitpack(ref.random_signs(rng, (cout, k, k, cin)))
        oh, ow = -(-h // stride), -(-w // stride)
        if padding == "valid":
            oh, ow = (h - k) // stride + 1, (w - k) // stride + 1
        macs = oh * ow * cout * k * k * cin
        for output_type in ["float", "bitpacked"]:
            extra = {"thresholds": np.full(cout, k * k * cin // 2, np.int32)} if output_type == "bitpacked" else {
                "multiplier": np.full(cout, 0.5, np.float32), "bias": np.zeros(cout, np.float32)}
            for variant in args.variants:
                conv = kernels.make_bconv2d(f, (h, w), cin, stride=(stride, stride), padding=padding,
                                            pad_value=1, output_type=output_type, variant=variant, **extra)
                for threads in args.threads:
                    iterations = args.iterations if variant != "portable" else max(3, args.iterations // 50)
                    t = float(np.median(conv.time(x, iterations, threads)))
                    rate = macs / t
                    print(f"{name:28s} {output_type:9s} {variant:8s} {threads:3d} {t * 1e6:9.1f} "
                          f"{rate / 1e9:8.1f} {100 * rate / roof / threads:6.1f}%")


def bench_fully_connected(args, rng, roof: float) -> None:
    print(f"\n{'fully connected':28s} {'variant':8s} {'thr':>3s} {'time us':>9s} {'GMAC/s':>8s} {'% roof':>7s}")
    for rows, cin, cout in [(1, 2048, 1000), (8, 2048, 1000), (64, 1024, 1024)]:
        x = ref.bitpack(ref.random_signs(rng, (rows, cin)))
        fc_weights = ref.bitpack(ref.random_signs(rng, (cout, cin)))
        for variant in args.variants:
            fc = kernels.make_bfully_connected(fc_weights, cin, variant=variant)
            for threads in args.threads:
                t = float(np.median(fc.time(x, args.iterations, threads)))
                rate = rows * cin * cout / t
                print(f"{f'{rows}x{cin} -> {cout}':28s} {variant:8s} {threads:3d} {t * 1e6:9.1f} "
                      f"{rate / 1e9:8.1f} {100 * rate / roof / threads:6.1f}%")


def main() -> None:
    usable = kernels.available_variants()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", default=",".join(v for v in usable if v != "portable"))
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--iterations", type=int, default=200)
    args = parser.parse_args()
    args.variants = args.variants.split(",")
    args.threads = [int(t) for t in args.threads.split(",")]
    rng = np.random.default_rng(0)
    roof = roofline()
    print(f"AVX-512 popcount roofline: {roof / 1e9:.0f} G binary MACs/s per core (measured)\n")
    bench_conv(args, rng, roof)
    bench_fully_connected(args, rng, roof)


if __name__ == "__main__":
    main()
