"""The layers of a `model:` (torch's nn.Sequential) by the name its config writes. Apart from
`layers/__init__.py` for start-up time: a network's `run` loads none of the tensor layers."""

from __future__ import annotations

from typing import Any

from . import activation as activation_layer
from . import (
    avgpool2d,
    batchnorm1d,
    batchnorm1d_eval,
    conv1d,
    conv2d,
    flatten,
    last,
    linear,
    maxpool1d,
    maxpool2d,
    rnn,
    tensor_dropout,
)

# The layers of a `model:` (torch's nn.Sequential), by the name its config writes: each kind's
# module (its ARGUMENTS, `shape`, `parameter_shapes`) and its class; every activation of the
# registry is a layer of the one generic kind (`activation.py`), its name the function's.
# ("linear" is the layer, as torch's nn.Linear; the identity activation has no layer.)
MODEL_KINDS: dict[str, tuple[Any, type]] = {
    "linear": (linear, linear.Linear),
    "conv1d": (conv1d, conv1d.Conv1d),
    "maxpool1d": (maxpool1d, maxpool1d.MaxPool1d),
    "conv2d": (conv2d, conv2d.Conv2d),
    "maxpool2d": (maxpool2d, maxpool2d.MaxPool2d),
    "avgpool2d": (avgpool2d, avgpool2d.AvgPool2d),
    "flatten": (flatten, flatten.Flatten),
    "dropout": (tensor_dropout, tensor_dropout.Dropout),
    "rnn": (rnn, rnn.Rnn),
    "last": (last, last.Last),
    "batchnorm1d": (batchnorm1d, batchnorm1d.BatchNorm1d),
    **{
        function: (activation_layer, activation_layer.Activation)
        for function in activation_layer.activations.NAMES
        if function != "linear"
    },
}

# A layer whose eval mode (torch's `model.eval()`, `run --eval`) computes otherwise than its
# training mode, by kind: the layer built for training, as eval mode computes it. (Dropout's
# is its mask: none at inference, `model_engine.build`.)
EVALUATED: dict[str, Any] = {"batchnorm1d": batchnorm1d_eval.evaluated}
# What those layers (and dropout, and an rnn's dropout between its stacked layers) do in
# training mode, as marking says it marks (`check`, `quiz` and `exercise` mark and ask the
# training pass, `run` without --eval): by kind, from the layer's spec (None: as at eval)
IN_TRAINING: dict[str, Any] = {
    "batchnorm1d": lambda layer: "batch norm over the batch",
    "dropout": lambda layer: "dropout through its masks",
    "rnn": lambda layer: (
        "the rnn's dropout between its layers, through its masks"
        if layer.argument("dropout")
        else None
    ),
}
