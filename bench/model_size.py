"""Where the bytes of a .tflite file go: constant data by consumer, duplicates, and the flatbuffer
structure (tensor and op tables, names, custom options, metadata, alignment padding: the file
against a plain object-API packing of the same model).

    .venv/bin/python bench/model_size.py model.tflite [...]
    .venv/bin/python bench/model_size.py --zoo          # QuickNet and BinaryNet CIFAR, converted
                                                        # with trained-like batch norms

Used for the size breakdown in docs/compiler.md.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema

from larq_compute.runtime_prepare import read_model

_BUILTIN_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
_TYPE_NAMES = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}


def _op_name(model: schema.ModelT, op: schema.OperatorT) -> str:
    code = model.operatorCodes[op.opcodeIndex]
    builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
    if builtin == schema.BuiltinOperator.CUSTOM and code.customCode:
        return code.customCode.decode().split("#")[0]
    return _BUILTIN_NAMES[builtin]


def _packed_size(model: schema.ModelT) -> int:
    """Size of the model written by the plain object API (no alignment, no shared vectors)."""
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return len(builder.Output())


def breakdown(data: bytes) -> dict[str, object]:
    model = read_model(data)
    sizes = [0 if b.data is None else len(b.data) for b in model.buffers]
    by_consumer: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    seen: set[int] = set()
    for subgraph in model.subgraphs:
        readers = collections.defaultdict(set)
        for op in subgraph.operators or []:
            for position, t in enumerate(op.inputs):
                if t >= 0:
                    readers[t].add(f"{_op_name(model, op)} input {position}")
        for t, tensor in enumerate(subgraph.tensors):
            if not sizes[tensor.buffer] or tensor.buffer in seen:
                continue
            seen.add(tensor.buffer)
            key = f"{', '.join(sorted(readers[t])) or 'no reader'} ({_TYPE_NAMES[tensor.type]})"
            by_consumer[key][0] += sizes[tensor.buffer]
            by_consumer[key][1] += 1
    contents = collections.Counter(
        bytes(np.asarray(b.data, np.uint8)) for b, n in zip(model.buffers, sizes) if n)
    duplicate_bytes = sum(len(c) * (k - 1) for c, k in contents.items())
    metadata = {m.name.decode(): sizes[m.buffer] for m in model.metadata or []}
    data_bytes = sum(sizes)
    tensors = [t for s in model.subgraphs for t in s.tensors]
    custom_options = [bytes(np.asarray(op.customOptions, np.uint8)) for s in model.subgraphs
                      for op in s.operators or [] if op.customOptions is not None]
    packed = _packed_size(model)
    return {
        "file": len(data),
        "constant data": data_bytes,
        "by consumer": dict(sorted(by_consumer.items(), key=lambda kv: -kv[1][0])),
        "duplicate constant bytes": duplicate_bytes,
        "metadata": metadata,
        "structure": len(data) - data_bytes,
        "plain packing (no alignment, no shared vectors)": packed,
        "tensors": len(tensors),
        "tensor name bytes": sum(len(t.name or b"") for t in tensors),
        "empty quantization tables": sum(
            1 for t in tensors if t.quantization is not None and t.quantization.scale is None
            and t.quantization.min is None and t.quantization.details is None),
        "operators": sum(len(s.operators or []) for s in model.subgraphs),
        "custom options bytes (all, distinct)": (sum(map(len, custom_options)),
                                            sum(map(len, set(custom_options)))),
    }


def _print(name: str, report: dict[str, object]) -> None:
    print(f"== {name}")
    for key, value in report.items():
        if key == "by consumer":
            for consumer, (size, count) in value.items():
                print(f"  {size:>10,}  {count:>3} buffer(s)  {consumer}")
        else:
            print(f"{key:>48}: {value:,}" if isinstance(value, int) else f"{key:>48}: {value}")


def randomize_batch_norms(model, rng: np.random.Generator) -> None:
    """Give every BatchNormalization random statistics, as after training (gammas of both signs).

    An untrained model's batch norms all fold to the same constants, which the writer stores once:
    its file would be smaller than a trained model's.
    """
    import keras

    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.layers.BatchNormalization):
            weights = layer.get_weights()
            variance = weights.pop()
            layer.set_weights([rng.normal(0.0, 1.0, w.shape).astype(w.dtype) for w in weights]
                              + [rng.uniform(0.5, 2.0, variance.shape).astype(variance.dtype)])


def _zoo_models() -> list[tuple[str, bytes]]:
    import keras

    import larq_compute as lc

    sys.path.insert(0, str(Path(__file__).parent))
    from convert_models import binarynet_cifar

    converted = []
    for build in (lc.zoo.QuickNet, binarynet_cifar):
        keras.utils.set_random_seed(0)
        model = build()
        randomize_batch_norms(model, np.random.default_rng(0))
        converted.append((model.name, bytes(lc.convert_keras_model(model))))
        keras.backend.clear_session()
    return converted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", type=Path)
    parser.add_argument("--zoo", action="store_true", help="convert QuickNet and BinaryNet CIFAR")
    args = parser.parse_args()
    models = [(str(p), p.read_bytes()) for p in args.models]
    if args.zoo:
        models += _zoo_models()
    for name, data in models:
        _print(name, breakdown(data))


if __name__ == "__main__":
    main()
