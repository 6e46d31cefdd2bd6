"""A finding: one result of the checklist, in the playbook's words."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any, Mapping


class Severity(str, enum.Enum):
    """How much a finding should change what the user does next.

    INFO: worth knowing. WARNING: look before concluding. PROBLEM: the
    comparison cannot be trusted until this is addressed.
    """

    INFO = "info"
    WARNING = "warning"
    PROBLEM = "problem"


@dataclasses.dataclass(frozen=True)
class Finding:
    """One checklist result.

    ``id`` is the check's stable name (``search_space_boundary``);
    ``evidence`` holds plain JSON-able data (trial ids, numbers) behind the
    message; ``action`` is what to do, and ``section`` the playbook section it
    comes from.
    """

    id: str
    severity: Severity
    message: str
    evidence: Mapping[str, Any]
    action: str
    section: str
    study: str | None = None  # the study it is about, when it is about one

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "severity": self.severity.value, "message": self.message,
            "evidence": dict(self.evidence), "action": self.action, "section": self.section,
            "study": self.study,
        }
