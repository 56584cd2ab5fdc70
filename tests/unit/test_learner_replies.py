"""grader/isolation/learner_module.py without a worker: what a reply becomes, as a hidden check shows it."""

import json
from types import SimpleNamespace

import numpy as np
import pytest

from grader.core.errors import BadOutput
from grader.grading.outcomes import classify
from grader.isolation.learner_module import LearnerModule


def test_an_unusable_array_file_is_described_without_its_header_in_hidden_checks(tmp_path):
    """The worker runs learner code, which may write the array file itself: a dtype whose field names
    spell the hidden input is quoted in the public message only."""
    module = LearnerModule(tmp_path / "src", tmp_path / "work", "forward")
    (tmp_path / "out").mkdir()
    np.save(tmp_path / "out" / "r1-0.npy", np.zeros(2, dtype=[("goodbye", "<i4")]))
    module.worker = SimpleNamespace(instance=tmp_path, out=tmp_path / "out")
    module.read_line = lambda what, timeout: json.dumps({"id": "r1", "ok": True, "value": {"__npy__": "r1-0.npy"}})
    with pytest.raises(BadOutput) as raised:
        module.receive("r1", "forward.rnn_step()", 1.0)
    ran, outcome = SimpleNamespace(skipped=False, longrepr=None), SimpleNamespace(value=raised.value)
    assert "goodbye" in classify(outcome, ran, "public")[1]
    assert classify(outcome, ran, "hidden")[1] == "forward.rnn_step() returned unusable data"


def test_a_result_asked_to_stay_in_the_worker_must_come_back_as_a_reference(tmp_path):
    """build_model's model is kept in the worker (keep=True): a worker that answers with data instead is
    the learner's code answering, and its check fails with a message, not with an internal error."""
    module = LearnerModule(tmp_path / "src", tmp_path / "work", "next_letter")
    module.worker = SimpleNamespace(instance=tmp_path, out=tmp_path / "out")
    module.ensure_imported = lambda: None
    module.send = lambda request, args=(), kwargs=None: "r1"
    module.read_line = lambda what, timeout: json.dumps({"id": "r1", "ok": True, "value": 3.5})
    with pytest.raises(BadOutput, match=r"next_letter.build_model\(\): the worker did not keep the result"):
        module.invoke("build_model", (8,), keep=True)
