"""grader/grading/evaluation.py: next-letter accuracy on the prefixes that determine their next letter."""

import numpy as np

from grader.grading.evaluation import determined_next, score_prefixes


def test_determined_next_letters_of_goodbye():
    assert determined_next("goodbye!", "g") == "o"
    assert determined_next("goodbye!", "o") is None  # followed by o and by d
    assert determined_next("goodbye!", "oo") == "d"
    assert determined_next("goodbye!", "!") == "g"  # the word repeats


def test_a_perfect_predictor_scores_one_and_reports_the_ceiling():
    word, alphabet = "goodbye!", sorted(set("goodbye!"))
    cyclic = word * 3

    def oracle(x):
        out = np.zeros_like(x)
        for p in range(x.shape[0]):
            for t in range(x.shape[1]):
                out[p, t, alphabet.index(cyclic[p + t + 1])] = 1
        return out

    score = score_prefixes(word, alphabet, oracle, range(1, 4))
    assert score.accuracy == 1.0 and score.total == 24 and score.scored == 22
