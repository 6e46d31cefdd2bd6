"""TRIAL references: one syntax for naming a stored trial, used by every plan and advice.

- ``EXPERIMENT``: the experiment's best trial (by its objective);
- ``EXPERIMENT/STUDY``: the best trial of one study;
- ``EXPERIMENT/NUMBER``: trial NUMBER of a single-study experiment;
- ``EXPERIMENT/STUDY/NUMBER``: trial NUMBER of STUDY, with study keys as
  ``tunebook trials`` prints them (``num_layers=2``, ``default``).

Experiment names hold no ``/``, so the first part is the experiment and a
final all-digit part is a trial number; whatever lies between is the study
key. An unknown experiment, study or number raises NotFoundError naming the
reference and listing what exists.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from tunebook.analysis.best import ranked
from tunebook.analysis.data import ExperimentData, load
from tunebook.core.errors import NotFoundError
from tunebook.core.records import ExperimentRecord, Trial
from tunebook.plans.base import run_section
from tunebook.plans.records import PlanInputError
from tunebook.storage import with_store

if TYPE_CHECKING:
    from tunebook.storage.base import Store

__all__ = ["ResolvedTrial", "TrialRef", "load_experiment", "parse_trial_ref", "resolve_trial"]



@dataclasses.dataclass(frozen=True)
class TrialRef:
    """A parsed TRIAL reference; ``study``/``number`` None where the reference leaves them out."""

    text: str
    experiment: str
    study: str | None = None
    number: int | None = None


@dataclasses.dataclass(frozen=True)
class ResolvedTrial:
    """A stored trial with its experiment: record, frames, the trial, its study key and canonical reference."""

    ref: TrialRef
    record: ExperimentRecord
    data: ExperimentData
    trial: Trial
    study: str

    @property
    def params(self) -> dict[str, Any]:
        """The trial's params by plain name, as the trial received them."""
        return self.trial.plain_params

    @property
    def canonical(self) -> str:
        """``EXPERIMENT/STUDY/NUMBER``: the reference that names this trial whatever becomes best later."""
        return f"{self.record.name}/{self.study}/{self.trial.number}"

    def run_section(self) -> dict[str, Any]:
        """The experiment's ``run:`` section with its absolute ``workdir`` (``plans.base.run_section``)."""
        return run_section(self.record.spec.get("run") or {}, self.record.source)


def parse_trial_ref(text: str) -> TrialRef:
    """Parse ``EXPERIMENT[/STUDY][/NUMBER]``; PlanInputError for an empty part."""
    if not isinstance(text, str) or not text.strip():
        raise PlanInputError([("TRIAL", f"must be EXPERIMENT, EXPERIMENT/NUMBER or EXPERIMENT/STUDY/NUMBER, got {text!r}")])
    parts = text.strip().split("/")
    if any(not part for part in parts):
        raise PlanInputError([("TRIAL", f"{text!r} has an empty part; write EXPERIMENT/STUDY/NUMBER")])
    number = int(parts[-1]) if len(parts) > 1 and parts[-1].isdigit() else None
    middle = parts[1:-1] if number is not None else parts[1:]
    return TrialRef(text, parts[0], "/".join(middle) or None, number)


def load_experiment(name: str, store: "Store", metrics: "list[str] | None" = None) -> tuple[ExperimentRecord, ExperimentData]:
    """The record and frames of experiment ``name`` (only the curves of ``metrics`` when given: ``[]`` for none);
    NotFoundError listing the experiments there are."""
    try:
        record = store.get_experiment(name)
    except NotFoundError:
        names = [r.name for r in store.list_experiments()]
        listing = ", ".join(names) if names else "none"
        raise NotFoundError(f"no experiment named {name!r} in the store; experiments: {listing}") from None
    return record, load(name, store, metrics=metrics)


def resolve_trial(text: "str | ResolvedTrial", store: "Store | str | None" = None) -> ResolvedTrial:
    """The trial a TRIAL reference names (see the module docstring); one already resolved as it is, so that
    plans made from the same trial read the store once."""
    if isinstance(text, ResolvedTrial):
        return text
    ref = parse_trial_ref(text)
    return with_store(store, lambda opened: _resolve(ref, opened))


def _resolve(ref: TrialRef, store: "Store") -> ResolvedTrial:
    record, data = load_experiment(ref.experiment, store)
    keys = {s.id: s.key for s in store.list_studies(record.id)}
    trials = store.list_trials(experiment_id=record.id)
    study = _study(ref, list(dict.fromkeys(keys.values())))
    if ref.number is None:
        best = ranked(data, study)
        if not len(best):
            where = f"study {study!r} of {ref.experiment!r}" if study else f"experiment {ref.experiment!r}"
            raise NotFoundError(f"{ref.text}: {where} has no complete trial to be its best; "
                                f"name one as EXPERIMENT/STUDY/NUMBER")
        trial_id = int(best["trial_id"].iloc[0])
        trial = next(t for t in trials if t.id == trial_id)
        return ResolvedTrial(ref, record, data, trial, keys[trial.study_id])
    in_study = [t for t in trials if keys[t.study_id] == study]
    found = [t for t in in_study if t.number == ref.number]
    if not found:
        numbers = sorted(t.number for t in in_study)
        have = f"{numbers[0]}..{numbers[-1]}" if numbers else "none"
        raise NotFoundError(f"{ref.text}: study {study!r} has no trial {ref.number}; its trial numbers: {have}")
    return ResolvedTrial(ref, record, data, found[0], study)


def _study(ref: TrialRef, studies: list[str]) -> str | None:
    listing = ", ".join(studies) if studies else "none"
    if ref.study is not None:
        if ref.study not in studies:
            raise NotFoundError(f"{ref.text}: experiment {ref.experiment!r} has no study {ref.study!r}; "
                                f"its studies: {listing}")
        return ref.study
    if ref.number is None:
        return None
    if len(studies) != 1:
        raise NotFoundError(f"{ref.text}: experiment {ref.experiment!r} has {len(studies)} studies, so name one: "
                            f"EXPERIMENT/STUDY/NUMBER with STUDY one of {listing}")
    return studies[0]
