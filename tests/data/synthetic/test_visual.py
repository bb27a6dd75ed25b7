"""The visual generator: repeats of one movie, repeat gain and drift."""

from __future__ import annotations

import numpy as np
import pytest

from cebra_lens_core.data.synthetic import GENERATORS


def _by_repeat(ds, neuron_slice=slice(None)):
    s = ds.sessions[0]
    n_frames = ds.metadata["params"]["n_frames"]
    n_repeats = ds.metadata["params"]["n_repeats"]
    order = np.lexsort((s.labels["frame"], s.labels["repeat"]))
    return s.neural[order][:, neuron_slice].reshape(n_repeats, n_frames, -1)


def test_visual_labels(defaults):
    s = defaults["visual"].sessions[0]
    np.testing.assert_array_equal(s.labels["frame"], np.tile(np.arange(900), 10))
    np.testing.assert_array_equal(s.labels["repeat"], np.repeat(np.arange(10), 900))
    assert np.all(s.neural >= 0)
    assert defaults["visual"].bin_width_s == pytest.approx(1 / 30)
    # with the default split the last two repeats are the test set
    assert set(np.unique(s.labels["repeat"][~s.train])) == {8, 9}


def test_visual_repeats_are_correlated_but_not_identical(defaults):
    responses = _by_repeat(defaults["visual"])  # (repeat, frame, neuron)
    a, b = responses[0].ravel(), responses[1].ravel()
    assert np.corrcoef(a, b)[0, 1] > 0.6
    assert not np.allclose(a, b)
    # frame identity is what drives the responses: correlation across different frames is low
    shifted = np.roll(responses[1], 300, axis=0).ravel()
    assert np.corrcoef(a, shifted)[0, 1] < np.corrcoef(a, b)[0, 1] - 0.3


def test_visual_repeat_gain_changes_each_neurons_amplitude():
    def log_gain_spread(gain_sd):
        ds = GENERATORS["visual"](gain_sd=gain_sd, drift_sd=0.0, noise_sd=0.0, n_repeats=6)
        mean_per_repeat = _by_repeat(ds).mean(axis=1)  # (repeat, neuron)
        ratio = np.log(mean_per_repeat[1:] / mean_per_repeat[:-1])
        return ratio.std()

    assert log_gain_spread(0.0) < 0.01  # identical repeats without gain changes or drift
    assert 0.15 < log_gain_spread(0.2) < 0.45  # ≈ 0.2·√2 for two independent gains
