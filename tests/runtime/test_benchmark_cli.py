"""`larq-compute benchmark` on a small model: latency summary and the per-op table."""

from __future__ import annotations

from op_models import quantize_model

from larq_compute.cli import main


def test_benchmark_reports_latency_memory_and_ops(tmp_path, capsys):
    path = tmp_path / "model.tflite"
    path.write_bytes(quantize_model([1, 8, 8, 64]))
    assert main(["benchmark", str(path), "--runs", "3", "--warmup", "1", "--threads", "2"]) == 0
    out = capsys.readouterr().out
    assert "threads: 2, runs: 3" in out
    assert "latency ms: median" in out and "p90" in out
    assert "peak memory" in out
    assert "LceQuantize" in out and "LiteRT (rest of the invoke)" in out
