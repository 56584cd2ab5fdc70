"""How a check is named and grouped for a reader, the same in every rendering.

A check's label is its exercise and the first line of its docstring; a parametrized check adds its
parameters (`[bad-char]`), so no two checks of one report share a label. A check that failed only
because the function it calls is still the generated stub is "not written yet": the first screen
lists such functions once each instead of repeating the stub's message for every check; checks of
one exercise that failed with the same error (a module that cannot be imported, a broken notebook)
are shown as one row.
"""

import re
from collections.abc import Iterable
from typing import Any

# What the worker reports for the stub's `raise NotImplementedError(...)`, public and hidden alike.
# In a notebook, the place is its cell (`grading.sources.CellLine`): "forward.ipynb code cell 2 (In [7]), line 3".
STUB_RAISED = re.compile(r"raised NotImplementedError at (?P<file>[\w.]+)(?: code cell \d+(?: \(In \[\d+\]\))?,)? "
                         r"line \d+, in (?P<function>\w+)")


def label(test: dict[str, Any]) -> str:
    """`exercise: description`, plus the parameters of a parametrized check."""
    name = test["name"]
    params = name[name.index("[") :] if name.endswith("]") and "[" in name else ""
    return f"{test['exercise']}: {test['description']}" + (f" {params}" if params else "")


def not_written(test: dict[str, Any]) -> tuple[str, str] | None:
    """(file, function) when `test` failed on a function that still raises the stub's error."""
    if test["status"] != "error":
        return None
    match = STUB_RAISED.search(test["message"])
    return (match["file"], match["function"]) if match else None


def stub_functions(tests: Iterable[dict[str, Any]]) -> dict[str, list[str]]:
    """{file: [function, ...]}: the functions still to write, each once, in the order checks met them."""
    found: dict[str, list[str]] = {}
    for test in tests:
        where = not_written(test)
        if where and where[1] not in found.setdefault(where[0], []):
            found[where[0]].append(where[1])
    return found


def merge_same_errors(tests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`tests`, with the errors of one exercise that share a message as one entry ("N checks")."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for test in tests:
        key = (test["exercise"], test["message"]) if test["status"] == "error" else (test["name"], "")
        groups.setdefault(key, []).append(test)
    merged = []
    for group in groups.values():
        first = group[0]
        if len(group) == 1:
            merged.append(first)
            continue
        merged.append({**first, "name": f"{first['exercise']}/{len(group)} checks",
                       "description": f"{len(group)} checks, the same error", "misconception": None,
                       "score": sum(t["score"] for t in group), "max_score": sum(t["max_score"] for t in group),
                       "visibility": "public" if any(t["visibility"] == "public" for t in group) else "hidden"})
    return merged
