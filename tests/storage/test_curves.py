from types import SimpleNamespace

import numpy as np

from tunebook.storage.curves import FrameLayout, STEP_DTYPE, VALUE_DTYPE


def _chunk(id_, trial_id, metric, steps, values):
    return SimpleNamespace(id=id_, trial_id=trial_id, metric=metric, n=len(steps),
                           steps=np.asarray(steps, STEP_DTYPE).tobytes(), vals=np.asarray(values, VALUE_DTYPE).tobytes())


def test_a_chunk_logged_after_the_heads_were_read_waits_for_the_next_load():
    # PostgreSQL reads in READ COMMITTED see a running trial's new chunk between the two queries of a load
    heads = [_chunk(1, 7, "loss", [1, 2], [0.5, 0.4]), _chunk(2, 7, "acc", [1], [0.1])]
    late = _chunk(3, 7, "loss", [3], [0.3])
    layout = FrameLayout(heads)
    layout.place([late, *heads])
    frame = layout.frame()
    assert frame["metric"].tolist() == ["acc", "loss", "loss"]
    assert frame["step"].tolist() == [1, 1, 2] and frame["value"].tolist() == [0.1, 0.5, 0.4]


def _reference(chunks):
    """What a frame must hold: every point, sorted by (trial, metric, step), logging order kept within a step."""
    import pandas as pd

    rows = [(c.trial_id, c.metric, c.id, i, s, v) for c in chunks
            for i, (s, v) in enumerate(zip(np.frombuffer(c.steps, STEP_DTYPE), np.frombuffer(c.vals, VALUE_DTYPE)))]
    frame = pd.DataFrame(rows, columns=["trial_id", "metric", "chunk", "i", "step", "value"])
    return frame.sort_values(["trial_id", "metric", "step", "chunk", "i"], kind="stable")


def test_frames_are_sorted_by_step_whatever_order_the_points_were_logged_in():
    # rising curves, resumed ones (a step logged twice), curves logged backwards or shuffled, one-point curves
    rng = np.random.default_rng(7)
    chunks, next_id = [], 1
    for trial in rng.permutation(30):
        for metric in ("loss", "acc", "lr"):
            kind = rng.integers(4)
            for part in range(int(rng.integers(1, 4))):
                size = int(rng.integers(1, 20))
                if kind == 0:
                    steps = np.arange(part * 100, part * 100 + size)
                elif kind == 1:
                    steps = np.arange(part * 5, part * 5 + size)  # overlaps the previous chunk
                elif kind == 2:
                    steps = np.arange(size)[::-1]
                else:
                    steps = rng.integers(0, 10, size)
                chunks.append(_chunk(next_id, int(trial), metric, steps, rng.normal(size=size)))
                next_id += 1
    layout = FrameLayout([chunks[i] for i in rng.permutation(len(chunks))])
    for start in range(0, len(chunks), 7):  # blobs come in batches, in any order
        layout.place(chunks[start : start + 7])
    got, want = layout.frame(), _reference(chunks)
    assert got["trial_id"].tolist() == want["trial_id"].tolist()
    assert got["metric"].astype(str).tolist() == want["metric"].tolist()
    assert got["step"].tolist() == want["step"].tolist()
    assert got["value"].tolist() == want["value"].tolist()


def test_a_chunk_that_vanished_before_its_blobs_were_read_leaves_no_rows():
    heads = [_chunk(1, 7, "loss", [3, 4], [0.3, 0.2]), _chunk(2, 7, "loss", [1, 2], [0.5, 0.4]),
             _chunk(3, 8, "loss", [1], [0.9])]
    layout = FrameLayout(heads)
    layout.place([heads[0], heads[2]])  # chunk 2 was deleted between the two reads
    frame = layout.frame()
    assert frame["trial_id"].tolist() == [7, 7, 8]
    assert frame["step"].tolist() == [3, 4, 1] and frame["value"].tolist() == [0.3, 0.2, 0.9]


def test_a_damaged_chunk_is_a_store_error_naming_it():
    import pytest

    from tunebook.core.errors import StoreError

    head = _chunk(5, 1, "loss", [1, 2, 3], [0.1, 0.2, 0.3])
    damaged = SimpleNamespace(id=5, trial_id=1, metric="loss", n=3, steps=head.steps, vals=head.vals[:16])
    layout = FrameLayout([head])
    with pytest.raises(StoreError, match="curve chunk 5 is damaged"):
        layout.place([damaged])
