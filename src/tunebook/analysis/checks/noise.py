"""One noise model per curve: how far its points scatter around the local trend, stretch by stretch.

Every curve check asks the same model about the stretch it judges, so two
checks never disagree about how noisy the same stretch of the same curve is
(overfitting and late_variance once did: one measured the whole curve, the
other its end).

The model (``CurveNoise``):

- second differences ``d2[i] = v[i-1] - 2 v[i] + v[i+1]`` cancel a locally
  linear trend, so a curve that is still falling is not mistaken for a noisy
  one; their deviations from a running median of ``CENTER`` second differences
  cancel a slowly changing curvature too (the bend of an exponential decay);
- the noise of a stretch of points is ``SCALE`` times the median of those
  deviations: for independent normal noise of standard deviation sigma this
  reads sigma (``SCALE`` measured on 200,000 simulated points, 0.621 and
  0.623 for two seeds); from 16 points it reads between 0.42 and 1.9 times
  the truth 95 % of the time (4,000 simulations): thresholds in noise units
  are set with that spread in mind;
- the median makes spikes, divergence and a few hard batches irrelevant as
  long as they are fewer than half the stretch's points;
- a stretch shorter than ``MIN_NOISE_POINTS`` borrows the points before it
  (then after it): a median of fewer deviations is too noisy to trust;
- ``sigma`` never reads less than the metric's quantum (``resolution`` of the
  whole curve: an error rate on n validation examples moves in steps of 1/n
  and can sit on one value, where the median reads 0); ``measured`` is the
  same number without that floor, for checks where no movement means no noise;
- ``scatter`` is the spread of a stretch's points around the smoothed curve
  (centred rolling median over a tenth of the points): the noise that is
  correlated from point to point, which second differences miss, shows
  there. For independent noise it reads 0.75 sigma at 50 points (5-point
  window), 0.9 at 100, 0.95 to 1 from 200 (300 simulations each). A rise
  is judged against both.
"""

from __future__ import annotations

import dataclasses
import math
from collections import OrderedDict
from typing import Sequence

import numpy as np

from tunebook.analysis.checks.curves import Curve, resolution, smooth_all
from tunebook.analysis.checks.rolling import rolling_medians

MIN_NOISE_POINTS = 16  # a stretch is widened to at least this many points
CENTER = 15  # second differences in the running median their deviations are taken from
CACHED_MODELS = 512  # curves whose noise model is kept (all the checks of one report read the same few hundred)
SCALE = 0.622  # median deviation -> per-point sigma for independent normal noise (see measure_scale)

__all__ = ["CENTER", "MIN_NOISE_POINTS", "SCALE", "CurveNoise", "measure_scale", "noise_model", "noise_models",
           "sigmas_before"]


@dataclasses.dataclass(frozen=True)
class CurveNoise:
    """The noise model of one curve: ``deviations[i]`` belongs to point ``i + 1`` (its second difference);
    ``residuals`` are the points minus the smoothed curve (NaN where the smoothing window is not full)."""

    deviations: np.ndarray
    quantum: float
    points: int
    residuals: np.ndarray

    def _stretch(self, start: int, stop: int | None, at_least: int) -> np.ndarray:
        stop = self.points if stop is None else min(max(int(stop), 0), self.points)
        start = min(max(int(start), 0), stop)
        if stop - start < at_least:
            start = max(0, stop - at_least)
            stop = min(self.points, start + at_least)
        # points start..stop-1 own the second differences of points 1..n-2 among them
        return self.deviations[max(start - 1, 0):max(stop - 1, 0)]

    def measured(self, start: int = 0, stop: int | None = None, at_least: int = MIN_NOISE_POINTS) -> float:
        """Per-point noise of points ``start:stop`` (widened to ``at_least``), NaN under 3 deviations."""
        deviations = self._stretch(start, stop, at_least)
        if len(deviations) < 3:
            return math.nan
        return float(SCALE * np.median(deviations))

    def sigma(self, start: int = 0, stop: int | None = None, at_least: int = MIN_NOISE_POINTS) -> float:
        """``measured`` but at least the metric's quantum: the noise a rise in that stretch is judged by."""
        measured = self.measured(start, stop, at_least)
        return max(measured, self.quantum) if math.isfinite(measured) else measured

    def scatter(self, start: int = 0, stop: int | None = None, at_least: int = MIN_NOISE_POINTS) -> float:
        """How far the points of ``start:stop`` scatter around the smoothed curve (1.4826 x MAD), at least the
        quantum: unlike ``sigma`` it also sees noise that is correlated from point to point (an error rate on a
        small validation set that sits on a value, then jumps), where second differences read almost 0."""
        stop = self.points if stop is None else min(max(int(stop), 0), self.points)
        start = max(0, min(max(int(start), 0), stop - at_least))
        residuals = self.residuals[start:stop]
        residuals = residuals[np.isfinite(residuals)]
        if len(residuals) < 3:
            return math.nan
        spread = 1.4826 * float(np.median(np.abs(residuals - np.median(residuals))))
        return max(spread, self.quantum)

    def level_error(self, start: int, window: int) -> float:
        """Standard error of the median of ``window`` consecutive points in the stretch from ``start`` on.

        1.25 x noise / sqrt(w_eff): for independent noise ``sigma`` over all ``window`` points; where the
        points scatter more than their second differences say (``scatter`` > ``sigma``: noise correlated from
        point to point), ``scatter`` over w_eff = window x (sigma / scatter)^2 effective points (at least 1).
        """
        sigma, scatter = self.sigma(start), self.scatter(start)
        if not math.isfinite(sigma):
            return math.nan
        if not math.isfinite(scatter) or scatter <= sigma:
            return 1.2533 * sigma / math.sqrt(max(window, 1))
        effective = max(1.0, window * (sigma / scatter) ** 2)
        return 1.2533 * scatter / math.sqrt(effective)

    def wander(self, smoothed: np.ndarray, start: int) -> float:
        """How far the smoothed curve from ``start`` on strays from its own straight-line fit (1.4826 x MAD):
        the slow wandering of a level (a high constant learning rate) that no per-point estimate sees; about 0
        for a steady rise or fall. NaN under 3 smoothed points."""
        after = np.asarray(smoothed[max(int(start), 0):], dtype=float)
        x = np.arange(len(after))[np.isfinite(after)]
        after = after[np.isfinite(after)]
        if len(after) < 3:
            return math.nan
        residual = after - np.polyval(np.polyfit(x, after, 1), x)
        return float(1.4826 * np.median(np.abs(residual - np.median(residual))))

    def before(self, length: int) -> np.ndarray:
        """``sigma`` of the ``length`` points before each point (NaN where fewer than half exist)."""
        return sigmas_before([self], length)[0]


def sigmas_before(models: Sequence[CurveNoise], length: int) -> list[np.ndarray]:
    """``CurveNoise.before(length)`` of each model, their rolling medians taken in one call (the same numbers)."""
    rolled = rolling_medians([model.deviations for model in models], length, min_periods=max(3, length // 2))
    # the deviations of points t-length..t-1 end at index t-2
    return [np.maximum(SCALE * np.concatenate([[np.nan, np.nan], r])[:model.points], model.quantum)
            for model, r in zip(models, rolled)]


def noise_model(curve: Curve | np.ndarray) -> CurveNoise:
    """The noise model of a curve (or of plain values in step order).

    Several checks ask about the same curve: the model is kept by the
    curve's values (its bytes), for the last ``CACHED_MODELS`` curves; its
    arrays are read-only.
    """
    return noise_models([curve])[0]


def noise_models(curves: Sequence[Curve | np.ndarray]) -> list[CurveNoise]:
    """``noise_model`` of each curve; those not kept yet are built together (their rolling medians in one
    call each, ``rolling.rolling_medians``), the same models as one by one."""
    arrays = [np.ascontiguousarray(c.values if isinstance(c, Curve) else c, dtype=float) for c in curves]
    keys = [a.tobytes() for a in arrays]
    found = {key: _MODELS[key] for key in keys if key in _MODELS}
    pending = {key: a for key, a in zip(keys, arrays) if key not in found}
    found.update(zip(pending, _build_models(list(pending.values()))))
    for key in keys:
        _MODELS[key] = found[key]
        _MODELS.move_to_end(key)
    while len(_MODELS) > CACHED_MODELS:
        _MODELS.popitem(last=False)
    return [found[key] for key in keys]


_MODELS: "OrderedDict[bytes, CurveNoise]" = OrderedDict()


def _build_models(arrays: list[np.ndarray]) -> list[CurveNoise]:
    seconds = [np.diff(values, 2) for values in arrays]
    deviations = list(seconds)  # fewer than 3 points: no second difference, no deviation
    long = [i for i, second in enumerate(seconds) if len(second)]
    centres = rolling_medians([seconds[i] for i in long], CENTER, min_periods=1, center=True)
    for i, centre in zip(long, centres):
        deviations[i] = np.abs(seconds[i] - centre)
    smoothed = iter(smooth_all([values for values in arrays if len(values)]))
    models = []
    for values, deviation in zip(arrays, deviations):
        residuals = values - next(smoothed) if len(values) else values.copy()
        for array in (deviation, residuals):
            array.flags.writeable = False
        models.append(CurveNoise(deviation, resolution(values), len(values), residuals))
    return models


def measure_scale(points: int = 200_000, seed: int = 0) -> float:
    """How ``SCALE`` was measured: 1 / (median deviation) on independent standard normal noise."""
    values = np.random.default_rng(seed).normal(size=points)
    model = noise_model(values)
    return float(1.0 / np.median(model.deviations))
