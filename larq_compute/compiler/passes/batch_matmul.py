"""``BATCH_MATMUL`` of a binarized input and a constant matrix → ``FULLY_CONNECTED``.

Above its constant-folding size limit the stock converter emits a Dense layer as
``BATCH_MATMUL(x, W)`` with the ``[C_in, C_out]`` kernel (``adj_y`` set: ``[C_out, C_in]``)
instead of ``FULLY_CONNECTED``. When ``x`` is binarized this rewrites it to the equivalent
``FULLY_CONNECTED`` with ``[C_out, C_in]`` weights (``keep_num_dims`` for inputs of rank > 2),
so ``bfully_connected`` can make it binary or the report lists it with the reason it stays
float. Only a 2-D right-hand side without ``adj_x`` matches: anything else is a real batched
product.
"""

from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..ir import Graph, Op
from ..patterns import binary_input, constant, replace_op


def rewrite(graph: Graph, op: Op) -> bool:
    if op.type != "BATCH_MATMUL" or op.custom or len(op.inputs) != 2:
        return False
    x, rhs = op.inputs
    weights = constant(rhs)
    options = op.options
    if weights is None or weights.ndim != 2 or options is None or options.adjX or binary_input(x) is None:
        return False
    if weights.dtype != np.float32 or op.output.tensor_type != schema.TensorType.FLOAT32 or len(x.shape) < 2:
        return False
    if options.asymmetricQuantizeInputs:
        return False
    rows = weights if options.adjY else weights.T
    if rows.shape[1] != x.shape[-1]:
        return False
    fc_options = schema.FullyConnectedOptionsT()
    fc_options.keepNumDims = len(x.shape) > 2
    weights_tensor = graph.constant(np.ascontiguousarray(rows), f"{op.origin}/kernel")
    replace_op(graph, op, "FULLY_CONNECTED", [x, weights_tensor, None], fc_options, custom=False,
               version=5 if fc_options.keepNumDims else 1)
    return True
