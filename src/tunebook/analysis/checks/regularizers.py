"""Which hyperparameters regularize, and which of a regularizer's values are weak.

The playbook's overfitting rule has an exception: "This may not apply if the
scientific hyperparameters include regularization parameters, since then it
would not be surprising if low-strength settings of those regularization
parameters resulted in problematic overfitting."

- The spec's ``regularizers: [name, ...]`` lists them; given, it is the whole
  list (``[]`` turns recognition off).
- Without it, a hyperparameter is a regularizer when its plain name, lower-cased,
  matches ``COMMON``: dropout (``dropout``, ``attn_dropout``, ``drop_rate``),
  weight decay (``weight_decay``, ``wd``, ``decay_rate`` is not one), L2
  (``l2``, ``l2_reg``, ``l2_penalty``), label smoothing (``label_smoothing``,
  ``smoothing``), mixup / cutmix (``mixup``, ``mixup_alpha``), stochastic
  depth (``stochastic_depth``, ``drop_path``, ``drop_path_rate``).
- Strength grows with the value (keep-probabilities such as ``keep_prob`` are
  not recognized for that reason). A scientific value is *low-strength* when it
  is false, 0, or no larger than the median of the regularizer's distinct
  scientific values (of 0, 0.1, 0.3: 0 and 0.1; of two values: the smaller).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from tunebook.core.experiment import Experiment
    from tunebook.core.space import Hyperparameter

COMMON = re.compile(
    r"(dropout|drop_?rate|drop_?path|stochastic_?depth|weight_?decay|^wd$|_wd$|^l2(_|$)|_l2$|l2_?(reg|penalty|weight)"
    r"|label_?smoothing|^smoothing$|mixup|cutmix)"
)

__all__ = ["COMMON", "is_low_strength", "regularizers"]


def regularizers(experiment: "Experiment") -> dict[str, str]:
    """Plain name -> how it is known ("spec" or "common name"), in the space's order."""
    if experiment.regularizers is not None:
        return {name: "spec" for name in experiment.regularizers}
    names = dict.fromkeys(hp.name for hp in experiment.space)
    return {name: "common name" for name in names if COMMON.search(name.lower())}


def is_low_strength(hp: "Hyperparameter", value: Any) -> bool:
    """Whether ``value`` of the scientific regularizer ``hp`` is one of its weak settings (module docstring)."""
    if value is None or value is False or (isinstance(value, (int, float)) and value == 0):
        return True
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return False
    values = [float(v) for v in getattr(hp.domain, "values", ()) if isinstance(v, (int, float))
              and not isinstance(v, bool)]
    return bool(values) and float(value) <= float(np.median(sorted(set(values))))
