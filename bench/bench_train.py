"""Benchmark: `train` with the exercise's defaults against the lesson's `fit(epochs=100)`, same run.

Both train the same model (`build_model`) on `goodbye!` with window 3, for 5 seeds. The lesson uses
Adam's default rate (0.001), 100 windows and `fit(epochs=100, batch_size=32)`; ours uses
`LEARNING_RATE`, 400 windows and `train`'s defaults. Accuracy is next-letter accuracy on every
prefix (each phase, lengths 1..3) whose next letter is determined, from the trained weights.

    python bench/bench_train.py
"""

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from grader.grading.evaluation import score_prefixes  # noqa: E402
from solutions import next_letter  # noqa: E402
from solutions.encoding import make_dataset  # noqa: E402
from solutions.forward import output_layer, rnn_forward  # noqa: E402

WORD, WINDOW, SEEDS = "goodbye!", 3, range(5)


def accuracy(model, alphabet):
    kernel, recurrent, bias, dense_kernel, dense_bias = model.get_weights()
    predict = lambda x: output_layer(rnn_forward(x, kernel, recurrent, bias), dense_kernel, dense_bias)  # noqa: E731
    return score_prefixes(WORD, alphabet, predict, range(1, WINDOW + 1)).accuracy


def lesson(seed):
    x, y, alphabet = make_dataset(WORD, WINDOW, 100, seed)
    keras.utils.set_random_seed(seed)
    model = next_letter.build_model(len(alphabet))
    model.optimizer.learning_rate.assign(0.001)
    started = time.perf_counter()
    model.fit(x, y, epochs=100, batch_size=32, verbose=0)
    return time.perf_counter() - started, accuracy(model, alphabet)


def ours(seed):
    x, y, alphabet = make_dataset(WORD, WINDOW, 400, seed)
    keras.utils.set_random_seed(seed)
    model = next_letter.build_model(len(alphabet))
    started = time.perf_counter()
    next_letter.train(model, x, y, seed=seed)
    return time.perf_counter() - started, accuracy(model, alphabet)


def main():
    print(f"{'seed':>4} {'lesson s':>9} {'lesson acc':>10} {'ours s':>7} {'ours acc':>8}")
    rows = []
    for seed in SEEDS:
        (t_lesson, a_lesson), (t_ours, a_ours) = lesson(seed), ours(seed)
        rows.append((t_lesson, a_lesson, t_ours, a_ours))
        print(f"{seed:>4} {t_lesson:>9.2f} {a_lesson:>10.3f} {t_ours:>7.2f} {a_ours:>8.3f}")
    t_lesson, a_lesson, t_ours, a_ours = np.array(rows).T
    print(f"lesson fit(epochs=100): {t_lesson.mean():.2f} s per seed, 100 % accuracy for "
          f"{int((a_lesson == 1).sum())}/{len(rows)} seeds")
    print(f"train() defaults (lr {next_letter.LEARNING_RATE}, {next_letter.EPOCHS} epochs, 400 windows): "
          f"{t_ours.mean():.2f} s per seed, 100 % accuracy for {int((a_ours == 1).sum())}/{len(rows)} seeds")
    print(f"time ratio ours / lesson: {t_ours.mean() / t_lesson.mean():.2f}x "
          f"({t_lesson.mean() / t_ours.mean():.1f}x faster)")


if __name__ == "__main__":
    main()
