"""The data model: domains, roles, search space, experiment, studies, trials.

Imports nothing else of tunebook; everything else builds on it.
"""

from tunebook.core.domains import Choice, Fixed, Range
from tunebook.core.errors import (
    ConflictError, MissingExtraError, NotFoundError, SpecError, StoreError, TunebookError,
)
from tunebook.core.experiment import Experiment, Objective, SearchConfig, StudyPlan
from tunebook.core.records import Checkpoint, ExperimentRecord, Note, StudyRecord, Trial, plain_name
from tunebook.core.space import Hyperparameter, SearchSpace
from tunebook.core.states import TrialState

__all__ = [
    "Checkpoint", "Choice", "ConflictError", "Experiment", "ExperimentRecord", "Fixed",
    "Hyperparameter", "MissingExtraError", "Note", "NotFoundError", "Objective", "Range",
    "SearchConfig", "SearchSpace", "SpecError", "StoreError", "StudyPlan", "StudyRecord",
    "Trial", "TrialState", "TunebookError", "plain_name",
]
