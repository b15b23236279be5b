"""Turn the stock converter's dilated-convolution expansion back into one dilated ``CONV_2D``.

TF lowers a dilated convolution to ``SPACE_TO_BATCH_ND(x, block, pads) → CONV_2D(VALID) →
BATCH_TO_SPACE_ND(block, crops)``. That equals a ``CONV_2D`` with dilation ``block`` over ``x``
zero-padded by ``pads`` and cropped by ``crops``; when the net padding is that of VALID or SAME,
it is exactly one dilated ``CONV_2D``, which the binary convolution pass can then take. Only done
when the convolution reads binary values, so float layers keep the converter's form.
"""

from __future__ import annotations

import copy

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..ir import Graph, Op
from ..patterns import binary_input, constant, producer, replace_op

_SAME, _VALID = schema.Padding.SAME, schema.Padding.VALID


def _reads_binary(tensor) -> bool:
    if binary_input(tensor) is not None:
        return True
    pad = producer(tensor, "PAD", "PADV2")
    return pad is not None and binary_input(pad.inputs[0]) is not None


def rewrite(graph: Graph, op: Op) -> bool:
    if op.type != "BATCH_TO_SPACE_ND":
        return False
    conv = producer(op.inputs[0], "CONV_2D")
    if conv is None or graph.only_consumer(conv.output) is not op:
        return False
    s2b = producer(conv.inputs[0], "SPACE_TO_BATCH_ND")
    if s2b is None or graph.only_consumer(s2b.output) is not conv or not _reads_binary(s2b.inputs[0]):
        return False
    options = conv.options
    if (options.padding, options.strideH, options.strideW, options.dilationHFactor, options.dilationWFactor) != (
        _VALID, 1, 1, 1, 1,
    ):  # fmt: skip
        return False
    block, pads, block2, crops = (constant(t) for t in (s2b.inputs[1], s2b.inputs[2], op.inputs[1], op.inputs[2]))
    if any(v is None for v in (block, pads, block2, crops)) or block.shape != (2,) or not np.array_equal(block, block2):
        return False
    x, y = s2b.inputs[0], op.output
    if len(x.shape) != 4 or len(y.shape) != 4:
        return False
    kernel = conv.inputs[1].shape[1:3]
    padding = None
    for candidate in (_VALID, _SAME):
        fits = True
        for axis in range(2):
            size, d, k = x.shape[1 + axis], int(block[axis]), kernel[axis]
            top = 0 if candidate == _VALID else (k - 1) * d // 2
            out = size - (k - 1) * d if candidate == _VALID else size
            if int(pads[axis][0]) - int(crops[axis][0]) != top or y.shape[1 + axis] != out:
                fits = False
        if fits:
            padding = candidate
            break
    if padding is None:
        return False
    new_options = copy.copy(options)
    new_options.padding = padding
    new_options.dilationHFactor, new_options.dilationWFactor = int(block[0]), int(block[1])
    replace_op(
        graph, op, "CONV_2D", [x, *conv.inputs[1:]], new_options, custom=False,
        version=max(conv.version, 2),
    ).origin = conv.origin
    return True
