"""Single-op and chained .tflite models with the binary ops, built with the flatbuffer schema."""

from __future__ import annotations

import numpy as np
from support import numpy_reference as ref

from larq_compute.runtime_model_builder import ModelBuilder

PADDING = {"same": 0, "valid": 1}
ACTIVATION = {"none": 0, "relu": 1, "relu_n1_to_1": 2, "relu6": 3}


def quantize_model(shape: list[int], dtype=np.float32, zero_point: int = 0) -> bytes:
    b = ModelBuilder()
    q = (0.1, zero_point) if dtype == np.int8 else None
    x = b.tensor(shape, dtype, "x", quantization=q, shape_signature=[-1] + shape[1:])
    y = b.tensor(shape[:-1] + [ref.packed_size(shape[-1])], np.int32, "packed")
    b.custom_op("LceQuantize", [x], [y])
    return b.build([x], [y])


def dequantize_model(shape: list[int], dtype=np.float32, quantization=None) -> bytes:
    b = ModelBuilder()
    x = b.tensor(shape[:-1] + [ref.packed_size(shape[-1])], np.int32, "packed")
    y = b.tensor(shape, dtype, "y", quantization=quantization)
    b.custom_op("LceDequantize", [x], [y])
    return b.build([x], [y])


def bconv2d_options(channels_in: int, stride=(1, 1), dilation=(1, 1), padding="valid",
                    pad_value=0, fused="none", output_activation=None) -> dict[str, int]:
    options = {
        "channels_in": channels_in,
        "dilation_height_factor": dilation[0],
        "dilation_width_factor": dilation[1],
        "fused_activation_function": ACTIVATION[fused],
        "pad_values": pad_value,
        "padding": PADDING[padding],
        "stride_height": stride[0],
        "stride_width": stride[1],
    }
    if output_activation is not None:
        options["output_activation_function"] = ACTIVATION[output_activation]
    return options


def add_bconv2d(b: ModelBuilder, x: int, x_shape: list[int], weights: np.ndarray, options: dict,
                out_type: str, multiplier=None, bias=None, thresholds=None,
                quantization=None, name: str = "conv",
                residual: int | None = None) -> tuple[int, list[int]]:
    """Adds an LceBconv2d on packed input tensor x; weights are +-1 float OHWI. ``residual``: a
    tensor index for the extension residual input (5; output_threshold stays absent)."""
    cout, kh, kw, _ = weights.shape
    packed_w = ref.bitpack(weights)
    f = b.tensor(list(packed_w.shape), np.int32, f"{name}/filter", data=packed_w)
    n, h, w, _ = x_shape
    g = options
    if g["padding"] == 0:
        oh = -(-h // g["stride_height"])
        ow = -(-w // g["stride_width"])
    else:
        oh = (h - (kh - 1) * g["dilation_height_factor"] - 1) // g["stride_height"] + 1
        ow = (w - (kw - 1) * g["dilation_width_factor"] - 1) // g["stride_width"] + 1
    inputs = [x, f]
    if out_type == "bitpacked":
        inputs += [-1, -1, b.tensor([cout], np.int32, f"{name}/threshold", data=thresholds)]
        out_shape, dtype = [n, oh, ow, ref.packed_size(cout)], np.int32
    else:
        inputs += [b.tensor([cout], np.float32, f"{name}/multiplier", data=multiplier),
                   b.tensor([cout], np.float32, f"{name}/bias", data=bias)]
        out_shape = [n, oh, ow, cout]
        dtype = np.int8 if out_type == "int8" else np.float32
    if residual is not None:
        inputs += [-1, residual] if out_type != "bitpacked" else [residual]
    y = b.tensor(out_shape, dtype, f"{name}/out", quantization=quantization)
    b.custom_op("LceBconv2d", inputs, [y], options)
    return y, out_shape


def bconv2d_model(x_shape: list[int], weights: np.ndarray, options: dict, out_type: str,
                  **kwargs) -> bytes:
    b = ModelBuilder()
    packed_shape = x_shape[:-1] + [ref.packed_size(x_shape[-1])]
    x = b.tensor(packed_shape, np.int32, "x", shape_signature=[-1, -1, -1, packed_shape[3]])
    y, _ = add_bconv2d(b, x, packed_shape, weights, options, out_type, **kwargs)
    return b.build([x], [y])
