"""The playbook's checklist: one module per check, each ``check_<id>(data) -> list[Finding]``.

Every check is a pure function of an ``ExperimentData``; its module docstring
states the rule it applies and where in the playbook that rule comes from.
"""
