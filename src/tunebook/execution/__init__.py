"""Run trials: the runner loop and its executors (local processes; Ray later)."""

from tunebook.execution.base import Executor, Exit, Launch
from tunebook.execution.local import LocalExecutor
from tunebook.execution.progress import StudyProgress
from tunebook.execution.runner import Interrupted, Runner, Timing

__all__ = ["Executor", "Exit", "Interrupted", "Launch", "LocalExecutor", "Runner", "StudyProgress", "Timing"]
