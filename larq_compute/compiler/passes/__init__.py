"""Graph-rewrite passes, one module each; :data:`PIPELINE` is the order the converter runs them.

Every pass exposes ``rewrite(graph, op) -> bool`` (a pattern, see ``patterns.py``). The patterns
run together to a fixed point, so a rewrite that enables another (folding a MUL into a binary
convolution lets its output become bit-packed) is picked up without a fixed pass order.
:data:`PIPELINE_AFTER_QUANTIZATION` runs once the output types are final (after the int8 stage,
which may turn float outputs of binary ops into int8 ones).
"""

from __future__ import annotations

from ..patterns import Pattern
from . import (
    batch_matmul,
    bconv2d,
    bfully_connected,
    bitpacked_output,
    bmaxpool,
    cleanup,
    constant_folding,
    dilated_conv,
    fold_affine,
    fuse_residual_add,
    quantizers,
    static_flatten,
)

PIPELINE: tuple[Pattern, ...] = (
    cleanup.remove_dead_op,
    constant_folding.rewrite,
    dilated_conv.rewrite,
    static_flatten.rewrite,
    quantizers.rewrite,
    cleanup.rewrite,
    bmaxpool.swap_affine_before_pool,
    bmaxpool.rewrite,
    batch_matmul.rewrite,
    bconv2d.rewrite,
    bfully_connected.rewrite,
    fold_affine.rewrite,
    bitpacked_output.rewrite,
)

# Fusions that need final output types: a residual ADD into a float-output LceBconv2d.
PIPELINE_AFTER_QUANTIZATION: tuple[Pattern, ...] = (fuse_residual_add.rewrite,)
