"""Calibrate the hidden next-letter check: does the reference reach full credit on every hidden word, every seed?

Trains the reference `build_model` + `train` on each hidden word with the hidden check's window,
windows and units, for 10 seeds, and prints the accuracy on the scored prefixes (lengths 1..window),
the ceiling, and the accuracy on longer prefixes (information only). Full credit needs the threshold on
each word (not on the words' mean), so each word is counted on its own. Record the result in
docs/calibration.md whenever the words, the window or the defaults change.

    python bench/calibrate_hidden.py [--seeds 10]
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.core.config import NUMERIC_SETTINGS  # noqa: E402

os.environ.update(NUMERIC_SETTINGS)  # train as the grader's learner workers do

import keras  # noqa: E402

from grader.grading.evaluation import score_prefixes  # noqa: E402
from grader.suites.hidden.test_hidden_next_letter import FULL_CREDIT, SAMPLES, UNITS, WINDOW, WORDS  # noqa: E402
from grader.untrusted.worker import configure_tensorflow  # noqa: E402
from solutions.encoding import make_dataset  # noqa: E402
from solutions.forward import output_layer, rnn_forward  # noqa: E402
from solutions.next_letter import build_model, train  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()
    configure_tensorflow()  # as the workers do
    passing = {word: 0 for word in WORDS}
    for word in WORDS:
        for seed in range(args.seeds):
            x, y, alphabet = make_dataset(word, WINDOW, SAMPLES, seed)
            keras.utils.set_random_seed(seed)
            model = build_model(len(alphabet), units=UNITS)
            started = time.perf_counter()
            train(model, x, y, seed=seed)
            k, r, b, dk, db = model.get_weights()
            predict = lambda z, k=k, r=r, b=b, dk=dk, db=db: output_layer(rnn_forward(z, k, r, b), dk, db)  # noqa: E731
            scored = score_prefixes(word, alphabet, predict, range(1, WINDOW + 1))
            longer = score_prefixes(word, alphabet, predict, range(WINDOW + 1, 2 * WINDOW + 1))
            passing[word] += scored.accuracy >= FULL_CREDIT
            print(f"{word!r:>15} seed {seed}: accuracy {scored.accuracy:.3f} (ceiling {scored.ceiling:.3f}), "
                  f"longer prefixes {longer.accuracy:.3f}, trained in {time.perf_counter() - started:.2f} s")
    for word, count in passing.items():
        print(f"reference reaches {FULL_CREDIT} on {word!r} for {count}/{args.seeds} seeds")
    return 0 if all(count == args.seeds for count in passing.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
