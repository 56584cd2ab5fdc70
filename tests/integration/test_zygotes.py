"""grader/isolation/zygote.py: a batch slot's preloaded sandboxed processes fork the learner workers."""

from grader.core.config import HASH_SEEDS, Limits
from grader.isolation.learner_module import LearnerModule
from grader.isolation.sandbox import Bubblewrap
from grader.isolation.zygote import ForkedProcess, LearnerSlot, fill_slot, zygote_for


def test_each_hash_seed_has_its_zygote_and_workers_keep_that_seed(tmp_path):
    """The alphabet check compares `set()` order across hash seeds: in a slot, the worker for each
    seed is forked from that seed's zygote, so `hash` differs between them as between interpreters."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "encoding.py").write_text("import os\n\ndef build_alphabet(text):\n"
                                     "    return [hash(text), os.environ['PYTHONHASHSEED']]\n")
    limits = Limits()
    slot = LearnerSlot(limits)
    modules = []
    try:
        handle = slot.handle()
        fill_slot(handle, src)
        for seed in HASH_SEEDS:
            modules.append(LearnerModule(src, tmp_path / "work", "encoding", limits, seed, Bubblewrap(limits),
                                         zygote_for(handle, seed)))
        seen = [module.invoke("build_alphabet", ("goodbye!",)) for module in modules]
        assert all(isinstance(module.process, ForkedProcess) for module in modules)
        assert [seed for _, seed in seen] == [str(seed) for seed in HASH_SEEDS]
        assert len({value for value, _ in seen}) == len(HASH_SEEDS)
    finally:
        for module in modules:
            module.close()
        slot.close()
