"""Plots of an experiment, data first: each ``get_<plot>_info`` returns plain data, ``render_<plot>`` a figure.

Importing this package needs no plotly; only the renderers do (``tunebook[report]``).
"""

from tunebook.plots.axis import AxisInfo, get_axis_info, get_axis_infos, render_axis
from tunebook.plots.best_step import BestStepInfo, get_best_step_info, render_best_step
from tunebook.plots.bootstrap import BootstrapInfo, get_bootstrap_info, render_bootstrap
from tunebook.plots.curves import CurvesInfo, get_curves_info, render_curves
from tunebook.plots.grad_norm import GradNormInfo, get_grad_norm_info, render_grad_norm
from tunebook.plots.importance import ImportanceInfo, get_importance_info, render_importance
from tunebook.plots.isolation import IsolationInfo, get_isolation_info, get_isolation_infos, render_isolation

__all__ = [
    "AxisInfo", "BestStepInfo", "BootstrapInfo", "CurvesInfo", "GradNormInfo", "ImportanceInfo", "IsolationInfo",
    "get_importance_info", "render_importance",
    "get_axis_info", "get_axis_infos", "get_best_step_info", "get_bootstrap_info", "get_curves_info",
    "get_grad_norm_info", "get_isolation_info", "get_isolation_infos",
    "render_axis", "render_best_step", "render_bootstrap", "render_curves", "render_grad_norm", "render_isolation",
]
