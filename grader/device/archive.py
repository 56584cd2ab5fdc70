"""What the device checker accepts before Keras builds anything from a learner's saved model.

A `.keras` archive is a zip of `config.json` (the model as Keras classes) and `model.weights.h5`.
Loading it with `safe_mode=True` still builds whatever the config names, so the archive is refused
unless it is small, holds just those members, and its config names only allow-listed Keras classes
(no Lambda, no custom layers, no modules of the learner's).
"""

import json
import zipfile
from pathlib import Path
from typing import Any

from grader.core.errors import ModelRejected

MAX_MEMBERS = 8
MAX_ARCHIVE_BYTES = 16 << 20
ALLOWED_MODULES = {
    "keras", "keras.layers", "keras.initializers", "keras.optimizers", "keras.regularizers",
    "keras.constraints", "keras.losses", "keras.metrics", "keras.models", "keras.src.models.functional",
}
ALLOWED_CLASSES = {
    "Sequential", "Functional", "InputLayer", "SimpleRNN", "Dense", "DTypePolicy", "FloatDTypePolicy",
    "GlorotUniform", "GlorotNormal", "Orthogonal", "Zeros", "Ones", "Constant", "RandomNormal",
    "RandomUniform", "TruncatedNormal", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform", "Identity",
    "Adam", "AdamW", "SGD", "RMSprop", "Adagrad", "Adamax", "Nadam", "L1", "L2", "L1L2", "MaxNorm",
    "NonNeg", "UnitNorm", "MinMaxNorm", "CategoricalCrossentropy", "CategoricalAccuracy", "Accuracy",
    "MeanMetricWrapper", "Mean", "ExponentialDecay", "__tensor__", "__keras_tensor__",
}
def check_classes(node: Any, path: str = "model") -> None:
    """Reject any class outside the allow-list, anywhere in the config tree."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            check_classes(item, f"{path}[{i}]")
    elif isinstance(node, dict):
        if "class_name" in node:
            module, name = node.get("module"), node.get("class_name")
            registered = node.get("registered_name")
            if (module is not None and module not in ALLOWED_MODULES) or name not in ALLOWED_CLASSES:
                raise ModelRejected(
                    f"the model uses {module}.{name} (at {path}); the grader accepts only Input, SimpleRNN "
                    "and Dense layers from keras.layers"
                )
            if registered not in (None, name):
                raise ModelRejected(f"the model uses a custom registered object {registered!r} (at {path})")
        for key, value in node.items():
            check_classes(value, f"{path}.{key}")


def check_archive(path: str | Path) -> None:
    """Refuse archives that are not a small `.keras` zip with an allow-listed model config."""
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_ARCHIVE_BYTES:
            raise ValueError("the saved model archive is too large or has too many files")
        names = {m.filename for m in members}
        if not {"config.json", "model.weights.h5"} <= names or any("/" in n or ".." in n for n in names):
            raise ValueError(f"the saved model archive has unexpected contents {sorted(names)}")
        check_classes(json.loads(archive.read("config.json")))
