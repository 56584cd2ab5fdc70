"""What the device checker accepts before Keras builds anything from a learner's saved model.

A `.keras` archive is a zip of `config.json` (the model as Keras classes), `model.weights.h5` and
`metadata.json`. The learner's worker wrote it, so it may say anything: loading it with `safe_mode=True`
still builds whatever the config names, at whatever size. So the archive is refused unless it is small and
holds just those members, its config passes the rules the exported config passes (`architecture.py`: the
allow-listed classes, the exercise's layers, bounded units and shapes), and its weight file holds exactly
the datasets that config implies, with their shapes and dtypes, read as metadata only (h5py reads no data).
"""

import io
import json
import math
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from grader.core.errors import Misconception, ModelRejected
from grader.device.architecture import check_architecture, layer_configs, weight_dtype, weight_shapes

MAX_MEMBERS = 8
MAX_ARCHIVE_BYTES = 16 << 20
CONFIG, WEIGHTS = "config.json", "model.weights.h5"
# Where Keras 3 writes each weight in model.weights.h5, in `weight_shapes` order: groups are named after the
# layer's class, never the name the learner gave the layer (an InputLayer has no weights).
WEIGHT_PATHS = ["layers/simple_rnn/cell/vars/0", "layers/simple_rnn/cell/vars/1", "layers/simple_rnn/cell/vars/2",
                "layers/dense/vars/0", "layers/dense/vars/1"]
# A compiled, trained model also saves its optimizer's state: scalars (the step count, the learning rate) and
# slots shaped like the weights; Adam with amsgrad and a moving average of the weights keeps 4 per weight.
OPTIMIZER_VARS = "optimizer/vars/"
OPTIMIZER_SLOTS = 4
OPTIMIZER_SCALARS = 4
FIX = "leave the file that model.save writes as it is"

Dataset = tuple[tuple[int, ...], str]  # shape, dtype name


def check_archive(path: str | Path, n_chars: int) -> None:
    """Refuse `path` (ModelRejected, in words for the learner) unless it is a small `.keras` zip whose config
    is the exercise's architecture for `n_chars` letters and whose weight file holds exactly the weights that
    config implies."""
    name = Path(path).name
    try:
        with zipfile.ZipFile(path) as archive:
            check_members(archive, name)
            config = read_config(archive, name)
            try:
                units = check_architecture(config, n_chars)
            except (Misconception, ModelRejected) as exc:
                raise ModelRejected(f"{CONFIG} in {name}: {exc}") from None
            weights = datasets(archive.read(WEIGHTS), name)
    except zipfile.BadZipFile as exc:
        raise ModelRejected(f"{name} is not a saved Keras model ({exc}): {FIX}") from None
    check_datasets(weights, implied_weights(config, n_chars, units), optimizer_saved(config), name)


def check_members(archive: zipfile.ZipFile, name: str) -> None:
    members = archive.infolist()
    if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_ARCHIVE_BYTES:
        raise ModelRejected(f"{name} is too large or has too many files (at most {MAX_MEMBERS} files, "
                            f"{MAX_ARCHIVE_BYTES >> 20} MiB unpacked): {FIX}")
    names = {m.filename for m in members}
    if not {CONFIG, WEIGHTS} <= names or any("/" in n or ".." in n for n in names):
        raise ModelRejected(f"{name} holds {sorted(names)}; a saved model holds {CONFIG} and {WEIGHTS} at its "
                            f"top level: {FIX}")


def read_config(archive: zipfile.ZipFile, name: str) -> dict[str, Any]:
    try:
        config = json.loads(archive.read(CONFIG))
    except ValueError as exc:
        raise ModelRejected(f"{CONFIG} in {name} is not JSON ({exc}): {FIX}") from None
    if not isinstance(config, dict):
        raise ModelRejected(f"{CONFIG} in {name} is not a Keras model's config: {FIX}")
    return config


def implied_weights(config: dict[str, Any], n_chars: int, units: int) -> dict[str, Dataset]:
    """The weights a model with this (checked) config has: {path in the weight file: (shape, dtype)}."""
    (_, rnn), (_, dense) = layer_configs(config)[-2:]
    dtypes = [weight_dtype(rnn)] * 3 + [weight_dtype(dense)] * 2
    return dict(zip(WEIGHT_PATHS, zip(weight_shapes(n_chars, units), dtypes, strict=True), strict=True))


def optimizer_saved(config: dict[str, Any]) -> bool:
    """Whether Keras saves an optimizer's state with this model: it was compiled with one."""
    compiled = config.get("compile_config")
    return isinstance(compiled, dict) and bool(compiled.get("optimizer"))


def check_datasets(found: dict[str, Dataset], implied: dict[str, Dataset], optimizer: bool, name: str) -> None:
    """Refuse a weight file that declares more than an archive may hold, lacks one of the `implied` weights or
    has it with another shape or dtype, or holds any dataset beyond them and the optimizer's state."""
    declared = sum(math.prod(shape) * np.dtype(dtype).itemsize for shape, dtype in found.values())
    if declared > MAX_ARCHIVE_BYTES:  # a compressed dataset can declare gigabytes in a few bytes
        raise ModelRejected(f"{WEIGHTS} in {name} declares {declared >> 20} MiB of weights; a saved model may "
                            f"hold {MAX_ARCHIVE_BYTES >> 20} MiB: {FIX}")
    rest = dict(found)
    for path, wanted in implied.items():
        got = rest.pop(path, None)
        if got != wanted:
            raise ModelRejected(f"{WEIGHTS} in {name} has {describe(path, got)} where {CONFIG} implies shape "
                                f"{wanted[0]} of {wanted[1]}: {FIX}")
    weights = Counter(implied.values()) if optimizer else Counter()
    for path, dataset in rest.items():
        if not optimizer or not path.startswith(OPTIMIZER_VARS) or (dataset[0] != () and dataset not in weights):
            raise ModelRejected(f"{WEIGHTS} in {name} holds {describe(path, dataset)}, which {CONFIG} does not "
                                f"imply: {FIX}")
    slots = Counter(dataset for dataset in rest.values() if dataset[0] != ())
    scalars = len(rest) - sum(slots.values())
    if scalars > OPTIMIZER_SCALARS or any(count > OPTIMIZER_SLOTS * weights[slot] for slot, count in slots.items()):
        raise ModelRejected(f"{WEIGHTS} in {name} holds {len(rest)} optimizer variables, more than an optimizer "
                            f"keeps for this model: {FIX}")


def datasets(data: bytes, name: str) -> dict[str, Dataset]:
    """{path: (shape, dtype)} of every dataset in an HDF5 file, from its metadata alone.

    Soft and external links are not followed (h5py's `visititems` skips them), so a weight reached through
    one counts as missing; a dataset whose data lies in another file, or that is virtual, is refused.
    """
    import h5py  # here, not at the top: the grade process imports this module for its size cap alone

    found: dict[str, Dataset] = {}

    def visit(path: str, item: Any) -> None:
        if isinstance(item, h5py.Group):
            return
        if (not isinstance(item, h5py.Dataset) or item.shape is None or item.external or item.is_virtual
                or item.dtype.kind not in "iuf"):
            raise ModelRejected(f"{WEIGHTS} in {name} holds {path}, which is not a plain array of numbers: {FIX}")
        found[path] = (tuple(item.shape), item.dtype.name)

    try:
        with h5py.File(io.BytesIO(data), "r") as weights:
            weights.visititems(visit)
    except OSError as exc:
        raise ModelRejected(f"{WEIGHTS} in {name} is not an HDF5 file ({exc}): {FIX}") from None
    return found


def describe(path: str, dataset: Dataset | None) -> str:
    return f"no {path}" if dataset is None else f"{path} of shape {dataset[0]} and dtype {dataset[1]}"
