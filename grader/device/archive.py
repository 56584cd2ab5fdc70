"""What the device checker accepts before Keras builds anything from a learner's saved model.

A `.keras` archive is a zip of `config.json` (the model as Keras classes), `model.weights.h5` and
`metadata.json`. The learner's worker wrote it, so it may say anything: loading it with `safe_mode=True`
still builds whatever the config names, at whatever size. So the archive is refused unless it is small and
holds just those members, its config passes the rules the exported config passes (`architecture.check_model`:
allow-listed builtin layers in one chain, bounded units and shapes; the exercise's architecture or another the
grader runs), and its weight file holds exactly the datasets that config implies, with their shapes and dtypes,
read as metadata only (h5py reads no data). The checker then loads `write_checked`'s copy: the config it checked,
as Keras can load it (`architecture.canonical`), beside the weight file it checked.
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
from grader.device.architecture import Model, canonical, check_model

MAX_MEMBERS = 8
MAX_ARCHIVE_BYTES = 16 << 20
CONFIG, WEIGHTS, METADATA = "config.json", "model.weights.h5", "metadata.json"
# A compiled, trained model also saves its optimizer's state: scalars (the step count, the learning rate) and
# slots shaped like the weights; Adam with amsgrad and a moving average of the weights keeps 4 per weight.
OPTIMIZER_VARS = "optimizer/vars/"
OPTIMIZER_SLOTS = 4
OPTIMIZER_SCALARS = 4
FIX = "leave the file that model.save writes as it is"

Dataset = tuple[tuple[int, ...], str]  # shape, dtype name


def check_archive(path: str | Path, n_chars: int) -> dict[str, Any]:
    """Refuse `path` (ModelRejected, in words for the learner) unless it is a small `.keras` zip whose config
    is a model the grader runs on `n_chars` letters and whose weight file holds exactly the weights that
    config implies; the config, as Keras can load it (`architecture.canonical`)."""
    name = Path(path).name
    try:
        with zipfile.ZipFile(path) as archive:
            check_members(archive, name)
            config = read_config(archive, name)
            try:
                model = check_model(config, n_chars)
            except (Misconception, ModelRejected) as exc:
                raise ModelRejected(f"{CONFIG} in {name}: {exc}") from None
            weights = datasets(archive.read(WEIGHTS), name)
    except zipfile.BadZipFile as exc:
        raise ModelRejected(f"{name} is not a saved Keras model ({exc}): {FIX}") from None
    check_datasets(weights, implied_weights(model), optimizer_saved(config), name)
    return canonical(config)


def write_checked(path: str | Path, config: dict[str, Any], target: str | Path) -> None:
    """Write to `target` the archive Keras loads: `config` (what `check_archive` returned) with the weight file
    and metadata of the archive at `path`, which `check_archive` accepted."""
    with zipfile.ZipFile(path) as archive, zipfile.ZipFile(target, "w") as checked:
        checked.writestr(CONFIG, json.dumps(config))
        for member in (WEIGHTS, METADATA):
            if member in archive.namelist():
                checked.writestr(member, archive.read(member))


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


def implied_weights(model: Model) -> dict[str, Dataset]:
    """The weights a checked model has: {path in the weight file: (shape, dtype)}."""
    return {path: (shape, dtype) for path, shape, dtype in model.weights()}


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
