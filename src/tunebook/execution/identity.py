"""Put an experiment in the store, or resume it if what it compares is unchanged."""

from __future__ import annotations

from typing import Any, Mapping

from tunebook.core.errors import ConflictError, NotFoundError
from tunebook.core.experiment import Experiment
from tunebook.core.records import ExperimentRecord
from tunebook.storage.base import Store
from tunebook.storage.url import display_url

# Parts of a spec that may change between runs of one experiment: the budget,
# how trials run, and the words around it. Anything else changes what the
# trials mean, and deserves a new experiment (a new round, in the playbook's words).
_MUTABLE = {("search", "trials"), ("run",), ("goal",), ("notes",)}


def identity(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The spec without the parts that may change between runs."""
    kept = {k: v for k, v in spec.items() if (k,) not in _MUTABLE}
    kept["search"] = {k: v for k, v in spec.get("search", {}).items() if ("search", k) not in _MUTABLE}
    return kept


def changed_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Top-level (and search.*) fields whose identity differs."""
    a, b = identity(old), identity(new)
    fields = [k for k in sorted(set(a) | set(b)) if k != "search" and a.get(k) != b.get(k)]
    fields += [f"search.{k}" for k in sorted(set(a["search"]) | set(b["search"])) if a["search"].get(k) != b["search"].get(k)]
    return fields


def ensure_experiment(store: Store, experiment: Experiment) -> ExperimentRecord:
    """The experiment's record: created, resumed as is, or updated with a new budget.

    ConflictError names the changed fields when the spec changed what is
    being compared (space, objective, search algorithm or seed).
    """
    spec = experiment.to_dict()
    try:
        record = store.get_experiment(experiment.name)
    except NotFoundError:
        return store.ensure_experiment(experiment.name, spec, source=experiment.source)
    if dict(record.spec) == spec and record.source == experiment.source:
        return record
    changed = changed_fields(record.spec, spec)
    if changed:
        raise ConflictError(
            f"experiment {experiment.name!r} already exists in store {display_url(store.url)} "
            f"with a different {', '.join(changed)}; trials run so far would not be comparable. "
            "Start a new round under a new name (change 'name:'), or restore the spec"
        )
    return store.replace_spec(record.id, spec, source=experiment.source or record.source)
