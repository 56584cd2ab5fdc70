"""The one way the grader turns data into a JSON file's text: strict JSON, which every parser reads.

Python's `json` writes a non-finite float as `NaN` or `Infinity`, which is not JSON: strict parsers
(JavaScript's JSON.parse, jq, Gradescope, most LMS importers) reject the whole file. Such floats come
from learner code (a `train` whose loss went to inf or nan) and reach reports as data, so they become
null here, where the schema allows null. `allow_nan=False` then makes anything that still slips
through fail in the grader, loudly, instead of writing a file nobody else can read.
"""

import json
import math
from typing import Any


def finite(value: Any) -> Any:
    """`value` with every non-finite float in it, at any depth of dicts and lists, replaced by None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    return value


def dumps(data: Any, indent: int = 2) -> str:
    """`data` as strict JSON text ending in a newline; a non-finite float becomes null."""
    return json.dumps(finite(data), indent=indent, allow_nan=False) + "\n"
