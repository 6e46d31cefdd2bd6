"""The last point of every curve, read without decoding the curves.

Each ``curve_chunks`` row holds ``n`` steps and ``n`` values as 8-byte
little-endian numbers; its last point is bytes ``8n - 7 .. 8n`` of each blob,
which SQL's ``substr`` reads on both backends (a SQLite BLOB, a PostgreSQL
bytea): 16 bytes per chunk instead of ``16 n``. A curve's last point is the
one at its largest step, of the chunk logged last among those reaching it
(``load_curves`` keeps the point logged last at a repeated step), which the
last points of its chunks give exactly when each chunk's steps do not fall:
what ``curves.encode_points`` writes (it orders a chunk by step, stably).

At 10,000 trials of 1,000 steps this reads 10,000 x 16 bytes of one metric
where ``load_curves`` decodes 10 million points.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np
from sqlalchemy import LargeBinary, func, select

from tunebook.storage.curves import COLUMNS, STEP_DTYPE, VALUE_DTYPE
from tunebook.storage.schema import curve_chunks, studies, trials

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.engine import Connection

__all__ = ["read_curve_ends"]


def read_curve_ends(conn: "Connection", experiment_id: int, metrics: Sequence[str] | None) -> "pd.DataFrame":
    """One row (trial_id, metric, step, value) per curve of the experiment (of ``metrics`` if given): its last
    point; sorted by trial_id and metric, which is categorical as in ``load_curves``' frame."""
    import pandas as pd

    c = curve_chunks.c
    last = c.n * 8 - 7
    query = (select(c.id, c.trial_id, c.metric, func.substr(c.steps, last, 8, type_=LargeBinary).label("step"),
                    func.substr(c.vals, last, 8, type_=LargeBinary).label("value"))
             .select_from(curve_chunks.join(trials).join(studies, trials.c.study_id == studies.c.id))
             .where(studies.c.experiment_id == experiment_id, c.n > 0))
    if metrics is not None:
        query = query.where(c.metric.in_(list(metrics)))
    rows = conn.execute(query).all()
    categories = sorted({row.metric for row in rows})
    code_of = {metric: code for code, metric in enumerate(categories)}
    ids = np.fromiter((row.id for row in rows), dtype=np.int64, count=len(rows))
    trial = np.fromiter((row.trial_id for row in rows), dtype=np.int64, count=len(rows))
    code = np.fromiter((code_of[row.metric] for row in rows), dtype=np.int64, count=len(rows))
    step = np.frombuffer(b"".join(bytes(row.step) for row in rows), dtype=STEP_DTYPE).astype(np.int64)
    value = np.frombuffer(b"".join(bytes(row.value) for row in rows), dtype=VALUE_DTYPE).astype(np.float64)
    order = np.lexsort((ids, step, code, trial))  # within a curve: by step, then logging order; its end last
    trial, code, step, value = trial[order], code[order], step[order], value[order]
    end = np.ones(len(trial), dtype=bool)
    end[:-1] = (trial[1:] != trial[:-1]) | (code[1:] != code[:-1])
    metric = pd.Categorical.from_codes(code[end], categories=categories)
    columns = {"trial_id": trial[end], "metric": metric, "step": step[end], "value": value[end]}
    return pd.DataFrame(columns, columns=list(COLUMNS))
