"""Give a dynamic-batch ``Flatten`` a constant target shape.

With an unknown batch, the stock converter computes a Flatten's shape at run time:
``RESHAPE(x, PACK(STRIDED_SLICE(SHAPE(x), [0], [1], [1]), c...))``. The reshape's output is then a
dynamic tensor whose shape exists only while the model runs, which custom ops (sized when the
model is prepared) cannot follow. ``RESHAPE(x, [-1, c...])`` is the same reshape with a constant
shape, resolved when the input is resized.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Op
from ..patterns import constant, producer


def _batch_size_of(tensor, x) -> bool:
    """True when ``tensor`` is ``SHAPE(x)[0]`` (a scalar)."""
    slice_op = producer(tensor, "STRIDED_SLICE")
    if slice_op is None or len(slice_op.inputs) != 4 or slice_op.options.shrinkAxisMask != 1:
        return False
    if slice_op.options.beginMask or slice_op.options.endMask or slice_op.options.ellipsisMask:
        return False
    shape_op = producer(slice_op.inputs[0], "SHAPE")
    begin, end, strides = (constant(t) for t in slice_op.inputs[1:])
    return (
        shape_op is not None
        and shape_op.inputs[0] is x
        and begin is not None and end is not None and strides is not None
        and begin.tolist() == [0] and end.tolist() == [1] and strides.tolist() == [1]
    )  # fmt: skip


def rewrite(graph: Graph, op: Op) -> bool:
    if op.type != "RESHAPE" or op.custom or len(op.inputs) != 2:
        return False
    x, shape = op.inputs
    pack = producer(shape, "PACK")
    if pack is None or pack.options.axis != 0 or not _batch_size_of(pack.inputs[0], x):
        return False
    rest = [constant(t) for t in pack.inputs[1:]]
    if any(r is None or r.size != 1 for r in rest):
        return False
    new_shape = np.asarray([-1, *(int(r.reshape(-1)[0]) for r in rest)], dtype=np.int32)
    op.set_input(1, graph.constant(new_shape, f"{op.origin}/shape"))
    return True
