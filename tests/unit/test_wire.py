"""grader/isolation/wire.py: requests out and replies in, arrays as `.npy` files named by the request,
nothing that comes back trusted."""

import json

import numpy as np
import pytest

from grader.core.errors import UnsafeOutput
from grader.isolation import wire
from grader.isolation.wire import Ref

MAX = 1 << 20


def test_nested_arrays_and_refs_survive_a_round_trip(tmp_path):
    """Arguments go out as JSON and files in the request's name; read back as a reply they are the
    same values (tuples as lists, numpy scalars as Python numbers, refs tied to their generation)."""
    model = Ref("model-1", generation=3)
    args = (np.arange(6.0).reshape(2, 3), [np.eye(2, dtype=np.float32), (model, "text", 4)])
    kwargs = {"h0": np.zeros((2, 5)), "nested": {"deep": [np.int64(7), np.float32(0.5), None]}}
    seen = []
    request = {"op": "call", "func": "f", "id": wire.new_request_id()}
    line = wire.encode_request(request, tmp_path, args, kwargs, on_ref=seen.append)

    assert line.endswith("\n") and "\n" not in line[:-1]
    sent = json.loads(line)
    assert sent["op"] == "call" and seen == [model]
    assert sent["args"][1][1][0] == {"__ref__": "model-1"}
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 3 and all(name.startswith(request["id"] + "-") for name in files)

    got_args = wire.decode(sent["args"], request["id"], tmp_path, MAX, generation=3)
    got_kwargs = wire.decode(sent["kwargs"], request["id"], tmp_path, MAX, generation=3)
    np.testing.assert_array_equal(got_args[0], args[0])
    np.testing.assert_array_equal(got_args[1][0], np.eye(2))
    assert got_args[1][0].dtype == np.float32
    assert got_args[1][1] == [model, "text", 4]
    np.testing.assert_array_equal(got_kwargs["h0"], np.zeros((2, 5)))
    assert got_kwargs["nested"] == {"deep": [7, 0.5, None]}
    assert type(got_kwargs["nested"]["deep"][0]) is int and type(got_kwargs["nested"]["deep"][1]) is float


def test_a_request_without_arguments_writes_no_file(tmp_path):
    request = {"op": "import", "id": wire.new_request_id()}
    assert json.loads(wire.encode_request(request, tmp_path)) == request
    assert not list(tmp_path.iterdir())


def test_a_ref_from_an_earlier_worker_can_be_refused_before_anything_is_sent(tmp_path):
    def refuse(ref):
        raise LookupError(f"{ref.key} is from generation {ref.generation}")

    with pytest.raises(LookupError, match="generation 1"):
        wire.encode_request({"op": "call", "id": "abc"}, tmp_path, (Ref("m", 1),), on_ref=refuse)


@pytest.mark.parametrize("name", ["0123456789abcdef-0.npy", "x.npy", 7, None])
def test_decode_refuses_an_array_file_not_named_for_the_request(tmp_path, name):
    request_id = "fedcba9876543210"
    if isinstance(name, str):
        np.save(tmp_path / name, np.zeros(3))  # it exists: the name alone is refused
    with pytest.raises(UnsafeOutput, match="not written for this call"):
        wire.decode([{"__npy__": name}], request_id, tmp_path, MAX, generation=1)


def test_decode_refuses_a_name_for_the_request_that_leads_elsewhere(tmp_path):
    request_id = "fedcba9876543210"
    (tmp_path / "out").mkdir()
    np.save(tmp_path / f"{request_id}-0.npy", np.zeros(3))
    with pytest.raises(UnsafeOutput, match="not chosen by the grader"):
        wire.decode({"__npy__": f"{request_id}-0/../../{request_id}-0.npy"}, request_id, tmp_path / "out", MAX, 1)


def test_decode_reads_arrays_only_within_the_size_cap(tmp_path):
    request_id = "fedcba9876543210"
    np.save(tmp_path / f"{request_id}-0.npy", np.zeros(1000))
    with pytest.raises(UnsafeOutput, match="output too large"):
        wire.decode({"__npy__": f"{request_id}-0.npy"}, request_id, tmp_path, 1000, 1)


def test_a_dict_with_other_keys_is_plain_data(tmp_path):
    value = {"__npy__": "a", "more": 1}
    assert wire.decode(value, "id", tmp_path, MAX, 1) == value
    assert wire.decode({"__ref__": 5}, "id", tmp_path, MAX, 2) == Ref("5", 2)


def test_parse_reply_takes_one_json_object():
    assert wire.parse_reply(b'{"id": "a", "ok": true, "value": [1, 2]}', MAX) == {"id": "a", "ok": True,
                                                                                  "value": [1, 2]}


@pytest.mark.parametrize("line", [b"[1, 2]", b'"text"', b"3", b"null"])
def test_parse_reply_refuses_anything_but_an_object(line):
    with pytest.raises(UnsafeOutput, match="not a JSON object"):
        wire.parse_reply(line, MAX)


def test_parse_reply_refuses_a_line_that_is_not_json():
    with pytest.raises(UnsafeOutput, match="not valid JSON"):
        wire.parse_reply(b"{'id': 1}", MAX)


def test_parse_reply_refuses_an_oversized_line_before_parsing_it():
    line = json.dumps({"id": "a", "value": "x" * 200}).encode()
    with pytest.raises(UnsafeOutput, match="output too large"):
        wire.parse_reply(line, 100)
