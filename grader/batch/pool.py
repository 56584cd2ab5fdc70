"""The batch process's preloaded processes: a learner slot per grading in flight, and the servers
they share (the device server and the grade server).

A slot is a `LearnerSlot` (its zygotes, `grader/isolation/zygote.py`) plus the handles a grade
process inherits. A server or slot that died is replaced before it is lent again; a slot that
cannot be emptied after a submission is retired rather than lent with what is left in it.
"""

import atexit
import json
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from grader.batch.grade_server import GradeServer
from grader.core.config import Limits
from grader.core.fallbacks import Fallbacks
from grader.device.client import DeviceServer
from grader.grading.command import grade_limits
from grader.isolation import sandbox
from grader.isolation.servers import ENV
from grader.isolation.zygote import LearnerSlot, clear_slot

S = TypeVar("S", DeviceServer, GradeServer)


class Slot:
    """The preloaded processes one batch slot uses, and how a grade process is told about them."""

    def __init__(self, limits: Limits, device: DeviceServer, learner: bool = True):
        self.device = device
        self.learner = LearnerSlot(limits) if learner and sandbox.bubblewrap_works() else None

    def alive(self) -> bool:
        return self.learner is None or self.learner.alive()

    def environment(self) -> dict[str, str]:
        handles: dict[str, Any] = {"device": self.device.handle()}
        if self.learner:
            handles["learner"] = self.learner.handle()
        return {ENV: json.dumps(handles)}

    def fds(self) -> tuple[int, ...]:
        """The socket ends the grade process must inherit."""
        return (self.device.ours.fileno(),) + (self.learner.fds() if self.learner else ())

    def clear(self, record: Fallbacks) -> None:
        """Empty the learner slot after a submission; if that fails, retire the slot (the pool then
        replaces it) rather than let the next submission see what is left."""
        if self.learner and self.alive():
            try:
                clear_slot(self.learner.handle())
            except OSError as exc:
                record.note("slot-retired", f"the batch slot could not be emptied ({exc}): it was replaced")
                self.learner.close()

    def close(self) -> None:
        if self.learner:
            self.learner.close()


class SlotPool:
    """This process's preloaded processes: one learner slot per submission being graded at once, and
    the servers they share, the device server and the grade server."""

    def __init__(self) -> None:
        self.idle: list[Slot] = []
        self.all: list[Slot] = []
        self.lock = threading.Lock()
        self.device: DeviceServer | None = None
        self.grader: GradeServer | None = None

    def acquire(self, grade_args: list[str], record: Fallbacks) -> Slot | None:
        """An idle slot, a new one, or None if nothing can be preloaded here (then: grade without)."""
        try:
            with self.lock:
                # A server that died is started again: without it, every grading would pay its imports.
                limits = grade_limits(grade_args)
                self.device = device = running(self.device, lambda: DeviceServer(limits), record)
                self.grader = running(self.grader, GradeServer, record)
                while self.idle:
                    slot = self.idle.pop()
                    if slot.alive():
                        slot.device = device
                        return slot
                    self.all.remove(slot)  # its zygote died (out of memory, say): start a new slot
                    record.note("slot-replaced", "a batch slot's zygote had died: a new slot was started")
                    slot.close()
            slot = Slot(limits, device, learner="off" not in grade_args)
        except (OSError, RuntimeError) as exc:
            record.note("no-preload", f"the batch could not preload TensorFlow ({exc}): this submission was "
                                      "graded by a fresh grade process and fresh workers")
            return None
        with self.lock:
            self.all.append(slot)
        return slot

    def release(self, slot: Slot) -> None:
        with self.lock:
            self.idle.append(slot)

    def close(self) -> None:
        with self.lock:
            for slot in self.all:
                slot.close()
            for server in (self.device, self.grader):
                if server is not None:
                    server.close()
            self.idle, self.all, self.device, self.grader = [], [], None, None


def running(server: S | None, start: Callable[[], S], record: Fallbacks) -> S:
    """`server`, or a new one from `start()` if there is none or it has died."""
    if server is not None and server.process.poll() is not None:
        record.note("server-restarted", f"the batch's {type(server).__name__} had died and was started again")
        server.close()
        server = None
    return server or start()


SLOTS = SlotPool()
atexit.register(SLOTS.close)
