"""The suites' `learner` fixture: one worker per learner module, reached as `learner.<module>`.

Runs in the trusted grade process; learner code runs only in the workers it starts
(`grader.isolation.learner_module`).
"""

from dataclasses import dataclass, field
from pathlib import Path

from grader.core import fallbacks
from grader.core.config import Limits
from grader.core.errors import SubmissionProblem
from grader.isolation.learner_module import LearnerModule, ModuleCalls
from grader.isolation.sandbox import PlainProcess
from grader.isolation.servers import attached
from grader.isolation.zygote import fill_slot, zygote_for


@dataclass
class Settings:
    """What a grading run is told: where the learner's sources are, the seed and the limits."""

    src_dir: Path
    work_dir: Path
    seed: int = 0
    hash_seed: int = 0
    limits: Limits = field(default_factory=Limits)
    problems: dict[str, str] = field(default_factory=dict)
    isolation: PlainProcess | None = None  # or its subclass sandbox.Bubblewrap


class Learner:
    """One `LearnerModule` per exercise, started on first use; `spawn` gives a separate extra one."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.modules: dict[str, LearnerModule] = {}
        self.extra: list[LearnerModule] = []
        # When batch grading, the slot's preloaded zygotes (grader/isolation/zygote.py) fork the workers.
        self.slot = attached().get("learner")

    def open(self) -> None:
        """Before the first worker: a batch slot emptied of the last submission, this one's files in it;
        fresh workers instead if the slot could not be emptied."""
        if self.slot:
            try:
                fill_slot(self.slot, self.settings.src_dir)
            except OSError as exc:
                fallbacks.note("slot-not-empty", f"{exc}: workers started as fresh interpreters")
                self.slot = None

    def __getattr__(self, name: str) -> ModuleCalls:
        if name.startswith("_"):
            raise AttributeError(name)
        return ModuleCalls(self.module(name))

    def module(self, name: str) -> LearnerModule:
        """The `LearnerModule` (worker) for `name`, created on first use."""
        if name not in self.modules:
            self.modules[name] = self.new(name, self.settings.hash_seed)
        return self.modules[name]

    def new(self, name: str, hash_seed: int) -> LearnerModule:
        s = self.settings
        module = LearnerModule(s.src_dir, s.work_dir, name, s.limits, hash_seed, s.isolation or PlainProcess(s.limits),
                               zygote_for(self.slot, hash_seed))
        if name in s.problems:
            module.import_problem = SubmissionProblem(s.problems[name])
        return module

    def spawn(self, name: str, hash_seed: int) -> ModuleCalls:
        """A second worker for `name` with another PYTHONHASHSEED (closed at the end of the run).

        It starts now, so a test that spawns several before calling them starts them side by side.
        """
        module = self.new(name, hash_seed)
        self.extra.append(module)
        module.start()
        return ModuleCalls(module)

    def close(self) -> None:
        for module in [*self.modules.values(), *self.extra]:
            module.close()
