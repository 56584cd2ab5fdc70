"""The model rules against Keras itself: every spelling of the exercise's model a learner writes, as Keras exports
and saves it, is that model (its weights evaluated by the reference numpy forward pass); another architecture is
named for what differs, and the device checker runs its saved archive, as Keras computes it."""

import json

import numpy as np
import pytest

from grader.core.config import Limits
from grader.core.errors import Misconception
from grader.device.archive import check_archive
from grader.device.client import DeviceChecker
from grader.grading.model_rules import check_architecture, check_weights
from solutions import forward as ref_forward

V, H = 4, 3


def spellings():
    """{name: a function making a compiled model}: the exercise's model written as learners write it."""
    import keras
    import tensorflow as tf

    def sequential(*layers, module=keras):
        return module.Sequential([module.Input(shape=(None, V)), *layers])

    def functional(*layers):
        inputs = keras.Input(shape=(None, V))
        outputs = inputs
        for layer in layers:
            outputs = layer(outputs)
        return keras.Model(inputs, outputs)

    rnn = lambda: keras.layers.SimpleRNN(H, return_sequences=True)  # noqa: E731
    return {
        "activation-layer": lambda: sequential(rnn(), keras.layers.Dense(V), keras.layers.Activation("softmax")),
        "softmax-layer": lambda: sequential(rnn(), keras.layers.Dense(V), keras.layers.Softmax()),
        "tf-nn-softmax": lambda: sequential(rnn(), keras.layers.Dense(V, activation=tf.nn.softmax)),
        "keras-activation-functions": lambda: sequential(
            keras.layers.SimpleRNN(H, return_sequences=True, activation=keras.activations.tanh),
            keras.layers.Dense(V, activation=keras.activations.softmax)),
        "tf-keras": lambda: sequential(
            tf.keras.layers.SimpleRNN(H, return_sequences=True, activation=tf.nn.tanh), tf.keras.layers.Dense(V),
            tf.keras.layers.Activation(tf.nn.softmax), module=tf.keras),
        "functional": lambda: functional(rnn(), keras.layers.Dense(V, activation="softmax")),
        "functional-softmax-layer": lambda: functional(rnn(), keras.layers.Dense(V), keras.layers.Softmax()),
        "time-distributed": lambda: sequential(rnn(), keras.layers.TimeDistributed(
            keras.layers.Dense(V, activation="softmax"))),
    }


def others():
    """{name: (a function making a compiled model, what the architecture check says)}: models the grader runs."""
    import keras

    def sequential(*layers):
        return lambda: keras.Sequential([keras.Input((None, V)), *(layer() for layer in layers),
                                         keras.layers.Dense(V, activation="softmax")])

    return {
        "gru": (sequential(lambda: keras.layers.GRU(H, return_sequences=True)),
                "found GRU where SimpleRNN is expected"),
        "lstm-dropout": (sequential(lambda: keras.layers.LSTM(H, return_sequences=True),
                                    lambda: keras.layers.Dropout(0.2)), "found LSTM where SimpleRNN is expected"),
        "extra-dense": (sequential(lambda: keras.layers.SimpleRNN(H, return_sequences=True),
                                   lambda: keras.layers.Dense(5, activation="relu")),
                        "found one Dense layer more than expected"),
    }


def trained(make, path):
    """The model `make` makes, compiled and fitted one step (so its archive holds an optimizer's state), saved to
    `path`."""
    import keras

    keras.utils.set_random_seed(0)
    model = make()
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="categorical_crossentropy")
    x = np.eye(V, dtype=np.float32)[np.arange(24).reshape(8, 3) % V]
    model.fit(x, x, epochs=1, batch_size=8, verbose=0)
    model.save(path)
    return model


X = np.eye(V, dtype=np.float32)[np.random.default_rng(0).integers(0, V, size=(3, 5))]


@pytest.fixture(scope="module")
def checker(tmp_path_factory):
    checker = DeviceChecker(tmp_path_factory.mktemp("checker"), Limits())
    yield checker
    checker.close()


@pytest.mark.parametrize("name", list(spellings()))
def test_each_spelling_is_the_exercise_model(name, tmp_path):
    """The exported config and the saved archive pass, and the numpy reference on the exported weights computes
    what Keras computes."""
    model = trained(spellings()[name], tmp_path / "model.keras")
    assert check_architecture(json.loads(model.to_json()), V) == H
    check_archive(tmp_path / "model.keras", V)
    kernel, recurrent, bias, dense_kernel, dense_bias = check_weights(model.get_weights(), V, H)
    numpy = ref_forward.output_layer(ref_forward.rnn_forward(X, kernel, recurrent, bias), dense_kernel, dense_bias)
    np.testing.assert_allclose(numpy, np.asarray(model(X)), atol=1e-5)


def test_the_device_checker_runs_what_keras_computes(checker, tmp_path):
    """tf.nn.softmax's config, which Keras cannot load itself, and models of another architecture: the checker
    runs each saved archive as Keras computes the model that saved it, on both devices."""
    runs = {"tf-nn-softmax": (spellings()["tf-nn-softmax"], None), **others()}
    for name, (make, found) in runs.items():
        path = tmp_path / name / "model.keras"
        path.parent.mkdir()
        model = trained(make, path)
        if found:
            with pytest.raises(Misconception, match=found):
                check_architecture(json.loads(model.to_json()), V)
        ran = checker.run(path, X)
        for output in ran.outputs:
            np.testing.assert_allclose(output, np.asarray(model(X, training=False)), atol=1e-5, err_msg=name)
