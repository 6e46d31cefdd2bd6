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
