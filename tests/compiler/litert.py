"""The builtin-op reference: ai_edge_litert's interpreter (never TF's bundled one, see notes)."""

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from larq_compute.compiler import export_model
from larq_compute.compiler.ir import Graph, Model


def run_litert(model_bytes: bytes, *inputs: np.ndarray) -> list[np.ndarray]:
    """Run a float .tflite with ai_edge_litert's interpreter (the builtin-op reference)."""
    interpreter = Interpreter(model_content=model_bytes)
    for detail, x in zip(interpreter.get_input_details(), inputs):
        if list(detail["shape"]) != list(x.shape):
            interpreter.resize_tensor_input(detail["index"], x.shape)
    interpreter.allocate_tensors()
    for detail, x in zip(interpreter.get_input_details(), inputs):
        interpreter.set_tensor(detail["index"], x)
    interpreter.invoke()
    return [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]


def graph_bytes(graph: Graph) -> bytes:
    return export_model(Model([graph]))
