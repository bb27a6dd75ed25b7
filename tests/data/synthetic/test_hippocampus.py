"""The hippocampus generator: a rat on a linear track and its place cells."""

from __future__ import annotations

import numpy as np


def test_hippocampus_position_and_direction(defaults):
    ds = defaults["hippocampus"]
    s = ds.sessions[0]
    position, direction = s.labels["position"], s.labels["direction"]
    assert position.min() >= 0.0 and position.max() <= 1.6
    assert position.max() - position.min() > 1.5  # the rat covers the track
    assert set(np.unique(direction)) == {0, 1}
    assert ds.label_info["direction"].categories == ("right", "left")
    assert ds.label_info["position"].unit == "m"
    step = np.diff(position)
    moving = np.abs(step) > 0
    assert moving.mean() > 0.5
    # direction 0 ("right") means moving towards +x
    np.testing.assert_array_equal(direction[:-1][moving] == 0, step[moving] > 0)
    # many laps, realistic speed (m/s while running)
    assert ds.metadata["sessions"][0]["n_laps"] >= 15
    speed = np.abs(step[moving]) / ds.bin_width_s
    assert 0.25 < np.median(speed) < 0.75
    # spike counts
    counts = s.neural
    assert np.all(counts >= 0) and np.all(counts == np.round(counts))
    rate_hz = counts.mean() / ds.bin_width_s
    assert 0.5 < rate_hz < 5.0


def test_hippocampus_place_fields_peak_at_their_centres(defaults):
    ds = defaults["hippocampus"]
    s = ds.sessions[0]
    meta = ds.metadata["sessions"][0]
    centres = np.array(meta["field_centres_m"])
    preferred = np.array(meta["preferred_direction"])
    width = ds.metadata["params"]["field_width_m"]
    edges = np.linspace(0.0, 1.6, 33)
    middles = 0.5 * (edges[:-1] + edges[1:])
    position_bin = np.clip(np.digitize(s.labels["position"], edges) - 1, 0, 31)
    hits = 0
    for i in range(s.n_neurons):
        own = s.labels["direction"] == preferred[i]
        tuning = np.array([s.neural[own & (position_bin == b), i].mean() for b in range(32)])
        hits += abs(middles[np.nanargmax(tuning)] - centres[i]) <= width
        # no field in the other running direction: mean rate there is near baseline
        other = s.neural[~own, i].mean() / ds.bin_width_s
        assert other < 2.0
    assert hits >= 0.9 * s.n_neurons
