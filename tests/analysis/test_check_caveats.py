"""``fixed_caveats``: the fixed hyperparameters are listed as caveats on every conclusion."""

from __future__ import annotations

import json

from tunebook.analysis.checks.caveats import SECTION, check_fixed_caveats
from tunebook.analysis.findings import Severity

from . import synthetic


def test_fixed_hyperparameters_are_listed_with_their_values():
    exp = synthetic.experiment(scientific={"width": [1, 2]},
                               fixed={"activation": "relu", "max_train_steps": 1000, "schedule": [1, 2]})
    [finding] = check_fixed_caveats(synthetic.sweep(exp, synthetic.quadratic(0.5)))
    assert finding.severity is Severity.INFO and finding.section == SECTION and finding.study is None
    assert finding.evidence == {"fixed": {"activation": "relu", "max_train_steps": 1000, "schedule": [1, 2]}}
    assert "activation=relu, max_train_steps=1000, schedule=[1, 2]" in finding.message
    assert "might not be valid for other settings" in finding.message
    assert "width" not in finding.message  # what is compared is no caveat
    json.dumps(finding.to_dict())


def test_a_fixed_hyperparameter_of_one_branch_is_named_by_its_id():
    exp = synthetic.experiment(nuisance={"opt": ["adam", "sgd"], "lr": synthetic.LR},
                               fixed={"opt=adam": {"beta2": 0.999}})
    [finding] = check_fixed_caveats(synthetic.sweep(exp, synthetic.quadratic(0.5)))
    assert finding.evidence["fixed"] == {"beta2[opt=adam]": 0.999}
    assert "beta2[opt=adam]=0.999" in finding.message


def test_no_fixed_hyperparameters_is_said_too():
    [finding] = check_fixed_caveats(synthetic.sweep(synthetic.experiment(), synthetic.quadratic(0.5)))
    assert finding.severity is Severity.INFO and finding.evidence == {"fixed": {}}
    assert finding.message.startswith("No hyperparameter is fixed")
