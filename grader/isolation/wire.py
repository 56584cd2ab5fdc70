"""The wire format between the grade process and a learner worker (`untrusted/worker.py`).

One JSON object per line on two pipes. Arrays travel as `.npy` files named by the request id: the
grade process writes arguments into the worker's `in/`, the worker writes results into `out/`, and
values refer to them as {"__npy__": name}. Objects that stay in the worker (a Keras model) travel as
{"__ref__": key}. Everything that comes back is checked before it is used: a file not named for
this call, a non-numeric array, an oversized reply are refused (`UnsafeOutput`).
"""

import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from grader.core.errors import UnsafeOutput
from grader.isolation import safe_io


@dataclass(frozen=True)
class Ref:
    """An object that stays in the worker (a Keras model), valid for one worker generation."""

    key: str
    generation: int


def new_request_id() -> str:
    return secrets.token_hex(8)


def encode_request(request: dict[str, Any], in_dir: Path, args: tuple = (), kwargs: dict | None = None,
                   on_ref: Callable[[Ref], None] = lambda ref: None) -> str:
    """The request as one JSON line; array arguments are saved in `in_dir` first, and `on_ref` sees
    every `Ref` among the arguments (to refuse one from an earlier worker)."""
    if args or kwargs:
        counter = iter(range(1 << 30))
        request = dict(request, args=encode(list(args), in_dir, request["id"], counter, on_ref),
                       kwargs=encode(kwargs or {}, in_dir, request["id"], counter, on_ref))
    return json.dumps(request) + "\n"


def encode(value: Any, in_dir: Path, request_id: str, counter: Iterator[int],
           on_ref: Callable[[Ref], None]) -> Any:
    """`value` as JSON-ready data; arrays become files in `in_dir`, a `Ref` its key."""
    if isinstance(value, np.ndarray):
        name = f"{request_id}-{next(counter)}.npy"
        np.save(in_dir / name, value, allow_pickle=False)
        return {"__npy__": name}
    if isinstance(value, Ref):
        on_ref(value)
        return {"__ref__": value.key}
    if isinstance(value, list | tuple):
        return [encode(v, in_dir, request_id, counter, on_ref) for v in value]
    if isinstance(value, dict):
        return {k: encode(v, in_dir, request_id, counter, on_ref) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


def parse_reply(line: bytes | str, max_bytes: int) -> dict[str, Any]:
    """One reply line as a JSON object, or UnsafeOutput."""
    reply = safe_io.parse_json_line(line, max_bytes)
    if not isinstance(reply, dict):
        raise UnsafeOutput("the worker's reply is not a JSON object")
    return reply


# How deep a reply's lists and dicts may nest. JSON's parser takes far deeper (a list 600 deep), and the
# decoding below would then exhaust Python's recursion limit in the grade process.
MAX_DEPTH = 64


def decode(value: Any, request_id: str, out_dir: Path, max_array_bytes: int, generation: int, depth: int = 0) -> Any:
    """A reply's value as plain data: arrays read from `out_dir` (only files named for this request)."""
    if depth > MAX_DEPTH and isinstance(value, list | dict):
        raise UnsafeOutput(f"a value nested more than {MAX_DEPTH} lists or dicts deep")
    if isinstance(value, list):
        return [decode(v, request_id, out_dir, max_array_bytes, generation, depth + 1) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__npy__"}:
            name = value["__npy__"]
            if not isinstance(name, str) or not name.startswith(request_id + "-"):
                raise UnsafeOutput("an array file not written for this call")
            return safe_io.load_npy(out_dir, name, max_array_bytes)
        if set(value) == {"__ref__"}:
            return Ref(str(value["__ref__"]), generation)
        return {str(k): decode(v, request_id, out_dir, max_array_bytes, generation, depth + 1)
                for k, v in value.items()}
    return value
