"""grader/batch/pool.py and runner.py with real slots: a slot whose zygote died, a slot that cannot
be emptied."""

from pathlib import Path

import pytest

from grader.batch import pool
from grader.batch.runner import grade_in_process
from grader.batch.submissions import Submission
from grader.core.fallbacks import Fallbacks
from grader.isolation.limits import ADDRESS_SPACE_BASELINE


def test_a_slot_whose_zygote_died_grades_without_it_and_is_replaced(root):
    """A zygote killed from outside (the OOM killer, say): the grading holding its slot starts fresh
    workers and scores as usual, and the pool lends the next grading a new slot; a slot that cannot
    be emptied is retired."""
    slots = pool.SlotPool()
    record = Fallbacks()
    try:
        slot = slots.acquire([], record)
        slot.learner.zygotes[0].process.kill()
        slot.learner.zygotes[0].process.wait()
        graded = grade_in_process(Submission("solutions", root / "solutions", "directory"), ["--only", "forward"], 120,
                                  slot, None, record)
        assert graded["status"] == "graded", graded
        assert graded["report"]["score"] == graded["report"]["max_score"]
        assert "zygote-gone" in {f["kind"] for f in graded["report"]["environment"]["fallbacks"]}
        slots.release(slot)
        again = slots.acquire([], record)
        assert again is not slot and again.alive() and slot not in slots.all
        assert "slot-replaced" in record.taken
        with pytest.MonkeyPatch.context() as patch:  # a slot that cannot be emptied is retired
            patch.setattr(pool, "clear_slot", lambda learner: (_ for _ in ()).throw(PermissionError(13, "locked")))
            again.clear(record)
        assert not again.alive() and "slot-retired" in record.taken
    finally:
        slots.close()


def test_the_batch_device_server_takes_the_batchs_memory_limit():
    """`grade batch ... --memory-mb 700`: the device server the pool starts for every slot is capped by the
    same limit the batch's gradings use (it was capped by the default whatever the batch asked)."""
    slots = pool.SlotPool()
    try:
        slots.acquire(["--memory-mb", "700", "--isolation", "off"], Fallbacks())
        limits = Path(f"/proc/{slots.device.process.pid}/limits").read_text().splitlines()
        cap = next(line for line in limits if line.startswith("Max address space")).split()[3]
        assert int(cap) == (700 << 20) + ADDRESS_SPACE_BASELINE
    finally:
        slots.close()
