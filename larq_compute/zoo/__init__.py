"""Reference BNN architectures, built with ``larq_compute.layers``.

Every model function takes the same keyword-only arguments:

```python
model = lc.zoo.QuickNet(input_shape=(224, 224, 3), num_classes=1000,
                        include_top=True, weights=None)
```

- ``input_shape``: ``(height, width, channels)``; ``None`` means ``(224, 224, 3)``.
- ``num_classes``: size of the classifier (used only with ``include_top``).
- ``include_top``: end with the published classifier (pooling, dense layer(s), softmax);
  without it the model returns the last feature map.
- ``weights``: ``None`` (random initialisation) or the path of a local weights file written by
  ``model.save_weights``; nothing is ever downloaded.

Layer structure and parameter counts follow the published architectures (the Larq Zoo
definitions); each docstring gives the published ImageNet accuracy and parameter count.

``MODELS`` maps each name to its function, in the order the documentation lists them.
"""

from __future__ import annotations

from collections.abc import Callable

import keras

from larq_compute.zoo.binary_alexnet import BinaryAlexNet
from larq_compute.zoo.birealnet import BiRealNet
from larq_compute.zoo.densenet import BinaryDenseNet28, BinaryDenseNet37, BinaryDenseNet45
from larq_compute.zoo.dorefanet import DoReFaNet
from larq_compute.zoo.meliusnet import MeliusNet22
from larq_compute.zoo.quicknet import QuickNet, QuickNetLarge, QuickNetSmall
from larq_compute.zoo.real_to_binary import RealToBinaryNet
from larq_compute.zoo.resnet_e import BinaryResNetE18
from larq_compute.zoo.xnornet import XNORNet

MODELS: dict[str, Callable[..., keras.Model]] = {
    fn.__name__: fn
    for fn in (
        QuickNetSmall,
        QuickNet,
        QuickNetLarge,
        BiRealNet,
        BinaryResNetE18,
        BinaryDenseNet28,
        BinaryDenseNet37,
        BinaryDenseNet45,
        MeliusNet22,
        RealToBinaryNet,
        XNORNet,
        BinaryAlexNet,
        DoReFaNet,
    )
}

__all__ = ["MODELS", *MODELS]
