"""grader/device/client.py's compare_devices: the two devices' outputs against each other and numpy."""

import numpy as np
import pytest

from grader.core.errors import DeviceCheckFailed
from grader.device.client import compare_devices


def test_identical_device_outputs_pass():
    trusted = np.random.default_rng(0).dirichlet(np.ones(4), size=(2, 3))
    gaps = compare_devices([trusted.astype(np.float32), trusted.astype(np.float32)], trusted)
    assert gaps["between_the_devices"] == 0.0


def test_a_model_whose_output_depends_on_the_device_fails():
    trusted = np.random.default_rng(0).dirichlet(np.ones(4), size=(2, 3))
    with pytest.raises(DeviceCheckFailed, match="between the devices"):
        compare_devices([trusted, trusted + 1e-3], trusted)
    with pytest.raises(DeviceCheckFailed, match="different letters"):
        compare_devices([trusted, trusted[..., ::-1]], trusted)
