"""Latency, memory and per-op time of a model on the runtime (``larq-compute benchmark``)."""

from __future__ import annotations

import argparse
import resource
import time
from dataclasses import dataclass, field

import numpy as np

from larq_compute.interpreter import Interpreter


@dataclass
class BenchmarkResult:
    threads: int
    runs: int
    latencies_ms: list[float]
    peak_rss_mib: float
    load_rss_mib: float
    # (node index, op name, ms per invoke); "builtin ops + LiteRT" is the rest of each invoke.
    op_ms: list[tuple[int, str, float]] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return float(np.median(self.latencies_ms))

    @property
    def min_ms(self) -> float:
        return float(np.min(self.latencies_ms))

    @property
    def p90_ms(self) -> float:
        return float(np.percentile(self.latencies_ms, 90))

    def report(self) -> str:
        lines = [
            f"threads: {self.threads}, runs: {self.runs}",
            f"latency ms: median {self.median_ms:.3f}  min {self.min_ms:.3f}  p90 {self.p90_ms:.3f}",
            f"peak memory (process RSS): {self.peak_rss_mib:.1f} MiB "
            f"(+{self.load_rss_mib:.1f} MiB for loading and running the model)",
            "time per op (ms per invoke, share of the mean invoke):",
        ]
        mean = float(np.mean(self.latencies_ms))
        custom = sum(ms for _, _, ms in self.op_ms)
        rows = sorted(self.op_ms, key=lambda row: -row[2])
        rows.append((-1, "builtin ops + LiteRT", mean - custom))
        for node, name, ms in rows:
            node_text = "-" if node < 0 else str(node)
            lines.append(f"  {node_text:>5} {name:<22} {ms:9.3f} {100 * ms / mean:6.1f}%")
        return "\n".join(lines)


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def random_inputs(interpreter: Interpreter, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    inputs = []
    for d in interpreter.input_details:
        shape = tuple(int(s) for s in d["shape"])
        if np.dtype(d["dtype"]).kind == "f":
            inputs.append(rng.standard_normal(shape).astype(d["dtype"]))
        else:
            info = np.iinfo(d["dtype"])
            inputs.append(rng.integers(info.min, info.max, size=shape, dtype=d["dtype"]))
    return inputs


def benchmark(model: bytes, threads: int = 1, runs: int = 50, warmup: int = 5) -> BenchmarkResult:
    """Times ``runs`` invokes after ``warmup`` ones on random inputs."""
    before = _peak_rss_mib()
    interpreter = Interpreter(model, num_threads=threads)
    inputs = random_inputs(interpreter)
    for _ in range(warmup):
        interpreter.predict(inputs)
    interpreter.reset_op_timings()
    latencies = []
    for _ in range(runs):
        start = time.perf_counter()
        interpreter.predict(inputs)
        latencies.append((time.perf_counter() - start) * 1e3)
    op_ms = [(t["node_index"], t["name"], t["total_us"] / 1e3 / runs)
             for t in interpreter.op_timings()]
    peak = _peak_rss_mib()
    return BenchmarkResult(threads, runs, latencies, peak, peak - before, op_ms)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="path of a .tflite model")
    parser.add_argument("--threads", type=int, default=1, help="threads (XNNPACK and our kernels)")
    parser.add_argument("--runs", type=int, default=50, help="timed invokes")
    parser.add_argument("--warmup", type=int, default=5, help="untimed invokes first")


def run(args: argparse.Namespace) -> int:
    with open(args.model, "rb") as f:
        model = f.read()
    if args.runs < 1 or args.warmup < 0:
        raise SystemExit("--runs must be >= 1 and --warmup >= 0")
    print(f"model: {args.model}")
    print(benchmark(model, args.threads, args.runs, args.warmup).report())
    return 0
