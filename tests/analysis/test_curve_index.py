import numpy as np
import pandas as pd

from tests.analysis import curve_cases as cc
from tunebook.analysis.curve_index import curve_index


def _frame(rows):
    return pd.DataFrame(rows, columns=["trial_id", "metric", "step", "value"])


def test_points_match_a_scan_of_the_frame():
    rng = np.random.default_rng(0)
    rows = [(t, m, s, float(rng.normal())) for t in (3, 1, 2) for m in ("b", "a") for s in range(1, 6)]
    frame = _frame(rows).sort_values(["trial_id", "metric", "step"]).reset_index(drop=True)
    frame["metric"] = frame["metric"].astype("category")
    index = curve_index(frame)
    for t in (1, 2, 3):
        for m in ("a", "b"):
            want = frame[(frame.trial_id == t) & (frame.metric == m)]
            steps, values = index.points(t, m)
            assert steps.tolist() == want.step.tolist() and values.tolist() == want.value.tolist()
    assert index.points(4, "a") is None and index.points(1, "c") is None


def test_unsorted_frames_are_indexed_by_step():
    frame = _frame([(1, "a", 3, 0.3), (2, "a", 1, 2.1), (1, "a", 1, 0.1), (1, "b", 1, 9.0), (1, "a", 2, 0.2)])
    steps, values = curve_index(frame).points(1, "a")
    assert steps.tolist() == [1, 2, 3] and values.tolist() == [0.1, 0.2, 0.3]


def test_the_index_is_built_once_per_frame():
    data = cc.make_data([{"depth": 1, "curves": {"valid/loss": cc.decay(10)}}])
    assert curve_index(data.curves) is curve_index(data.curves)
    copy = data.curves.copy()
    assert curve_index(copy) is not curve_index(data.curves)


def test_any_row_order_gives_each_curve_sorted_by_step():
    # curves split into several runs, steps falling inside a run, runs of other curves in between
    rng = np.random.default_rng(3)
    rows = [(int(t), m, int(s), float(rng.normal())) for t in range(6) for m in ("a", "b") for s in rng.permutation(8)]
    for frame in (_frame(rows), _frame([rows[i] for i in rng.permutation(len(rows))]),
                  _frame(sorted(rows, key=lambda r: (r[0], r[1])))):  # grouped by curve, steps unsorted within
        index = curve_index(frame)
        for t in range(6):
            for m in ("a", "b"):
                want = frame[(frame.trial_id == t) & (frame.metric == m)].sort_values("step", kind="stable")
                steps, values = index.points(t, m)
                assert steps.tolist() == want.step.tolist() == list(range(8))
                assert values.tolist() == want.value.tolist()
