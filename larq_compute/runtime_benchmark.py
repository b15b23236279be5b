"""Latency, memory and per-op time of a model on the runtime (``larq-compute benchmark``)."""

from __future__ import annotations

import argparse
import resource
import time
from dataclasses import dataclass, field

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from larq_compute.interpreter import Interpreter
from larq_compute.runtime_prepare import read_model


@dataclass
class BenchmarkResult:
    threads: int
    runs: int
    latencies_ms: list[float]
    peak_rss_mib: float
    load_rss_mib: float
    # (first node, last node, op name(s), ms per invoke, custom): each custom node, and each run
    # of builtin nodes between two custom nodes; "LiteRT (rest)" is what remains of an invoke.
    op_ms: list[tuple[int, int, str, float, bool]] = field(default_factory=list)

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
            "",
        ]
        mean = float(np.mean(self.latencies_ms))
        timed = sum(row[3] for row in self.op_ms)
        rows = sorted(self.op_ms, key=lambda row: -row[3])
        rows.append((-1, -1, "LiteRT (rest of the invoke)", mean - timed, False))
        lines[-1:] = [f"  {'nodes':>9}  {'op':<44} {'ms':>9} {'share':>6}"]
        for first, last, name, ms, _ in rows:
            nodes = "-" if first < 0 else (str(first) if first == last else f"{first}-{last}")
            lines.append(f"  {nodes:>9}  {name:<44.44} {ms:9.3f} {100 * ms / mean:5.1f}%")
        lines.insert(3, "time per op (ms per invoke; builtin ops between two custom ops together):")
        return "\n".join(lines)

    @property
    def custom_ops(self) -> int:
        return sum(1 for row in self.op_ms if row[4])


def builtin_op_names(model: bytes) -> list[str]:
    """Op name of every operator of the main subgraph (custom ops by their custom code)."""
    parsed = read_model(model)
    by_code = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    names = []
    for op in parsed.subgraphs[0].operators or []:
        code = parsed.operatorCodes[op.opcodeIndex]
        builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
        custom = code.customCode.decode() if code.customCode else None
        names.append(custom if builtin == schema.BuiltinOperator.CUSTOM and custom else
                     by_code.get(builtin, str(builtin)))
    return names


def _summarize(names: list[str]) -> str:
    """"CONV_2D, ADD x3" for a run of builtin op names."""
    groups: list[list] = []
    for name in names:
        if groups and groups[-1][0] == name:
            groups[-1][1] += 1
        else:
            groups.append([name, 1])
    return ", ".join(name if count == 1 else f"{name} x{count}" for name, count in groups)


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
    names = builtin_op_names(model)
    op_ms = []
    for t in interpreter.op_timings():
        first, last = t["first_node"], t["last_node"]
        name = t["name"] or _summarize(names[first : last + 1])
        op_ms.append((first, last, name, t["total_us"] / 1e3 / runs, bool(t["name"])))
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
