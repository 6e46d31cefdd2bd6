"""The playbook's procedures as plans and advice.

A plan is a pure function that returns a ``Plan``: a ready experiment spec
(plain data that ``tunebook run`` accepts as is) and the reason for each
choice, in the playbook's words, with the section it comes from.
``write_plan`` writes it as YAML, never over an existing file unless told.
Advice reads finished trials from a store and returns an ``Advice``: numbers
and plain words. Stored trials are named with one TRIAL reference syntax
(``reference``): ``EXPERIMENT``, ``EXPERIMENT/STUDY``, ``EXPERIMENT/NUMBER``,
``EXPERIMENT/STUDY/NUMBER``.

    plan = tunebook.plans.adam(trials=30, spec="spec.yaml")
    tunebook.plans.write_plan(plan, "adam.yaml")
    advice = tunebook.plans.max_steps("digits-lr-sweep", fit="train/loss<=0.01")
"""

from tunebook.plans.adam import adam
from tunebook.plans.clipping import clipping
from tunebook.plans.instability import early_instability, instability, instability_advice
from tunebook.plans.next_round import next_round
from tunebook.plans.records import Advice, Plan, PlanFileExists, PlanInputError, Reason, write_plan
from tunebook.plans.reference import ResolvedTrial, TrialRef, parse_trial_ref, resolve_trial
from tunebook.plans.round2 import round2
from tunebook.plans.sweep import lr_sweep, max_steps, parse_fit
from tunebook.plans.warmup import warmup, warmup_advice

__all__ = [
    "Advice", "Plan", "PlanFileExists", "PlanInputError", "Reason", "ResolvedTrial", "TrialRef", "adam", "clipping",
    "early_instability", "instability", "instability_advice", "lr_sweep", "max_steps", "next_round", "parse_fit",
    "parse_trial_ref", "resolve_trial", "round2", "warmup", "warmup_advice", "write_plan",
]

