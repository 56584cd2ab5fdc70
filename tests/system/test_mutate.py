"""`grade selfcheck --mutate` end to end, on one function's mutants (about 15 gradings of `--only forward`)."""

import json

from grader.authoring import mutate
from grader.cli import main


def test_mutants_are_graded_and_a_wrong_equivalence_mark_is_reported(tmp_path, capsys):
    forward = mutate.reference_mutants(["forward"])["forward"]
    step = [m for m in forward if m.function == "rnn_step"]
    no_bias = next(m for m in step if m.mutated == "return np.tanh(x_t @ W_xh + h_prev @ W_hh)")
    empty = next(m for m in forward if m.mutated.startswith("h = np.zeros((N, T, H)"))  # np.empty -> np.zeros
    marks = tmp_path / "equivalent.toml"
    marks.write_text("".join(f'[[equivalent]]\nid = "{m.id}"\nmutated = {json.dumps(m.mutated)}\nreason = "{why}"\n'
                             for m, why in ((empty, "h is written whole"), (no_bias, "wrongly: the bias counts"))))
    report = tmp_path / "mutants.json"

    status = main(["selfcheck", "--mutate", "--only", "forward", "--mutant", "forward:rnn_step:*", empty.id,
                   "--equivalents", str(marks), "--json", str(report), "--jobs", "2"])

    out = capsys.readouterr().out
    data = json.loads(report.read_text())
    [outcome] = data["exercises"]
    assert outcome["exercise"] == "forward" and outcome["mutants"] == len(step) + 1
    assert outcome["equivalent"] == 1  # np.empty -> np.zeros survives, as marked
    assert outcome["killed"] + outcome["survived"] + outcome["equivalent"] == outcome["mutants"]
    assert no_bias.id not in {s["id"] for s in outcome["survivors"]}  # test_rnn_step_uses_bias kills it
    assert data["problems"] == [f"{no_bias.id} is marked equivalent but a check kills it: remove it from the "
                                "equivalents' file"]
    assert status == 1 and "Mutation score" in out and no_bias.id in out
    for survivor in outcome["survivors"]:
        assert survivor["id"] in out and f"+ {survivor['mutated']}\n" in out
