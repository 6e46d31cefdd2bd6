"""Code versions in SQL: one row per distinct (info, diff), shared by every trial it produced.

Each function runs inside a transaction the caller holds. The digest is the
sha256 of the canonical JSON of ``{"info": info, "diff": diff}`` (sorted keys),
so identical versions captured by many runs, processes or machines land on one
row; the unique digest column settles a race between two first inserts.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.engine import Connection, Row

from tunebook.core.records import CodeVersion
from tunebook.storage.rows import dump_json
from tunebook.storage.schema import code_versions


def version_digest(info: Mapping[str, Any], diff: str | None) -> str:
    """sha256 hex of the canonical JSON of ``{"info": info, "diff": diff}``."""
    text = dump_json({"info": info, "diff": diff}, "a code version")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def find(conn: Connection, digest: str) -> int | None:
    """The id of the version with ``digest``; None if there is none."""
    return conn.execute(select(code_versions.c.id).where(code_versions.c.digest == digest)).scalar()


def insert(conn: Connection, digest: str, info: Mapping[str, Any], diff: str | None, now: datetime) -> int:
    """Insert a new version; IntegrityError (through the caller) if its digest is already stored."""
    values = {"digest": digest, "info": dump_json(info, "code version info"), "diff": diff, "created_at": now}
    return conn.execute(code_versions.insert().values(values).returning(code_versions.c.id)).scalar_one()


def get(conn: Connection, version_id: int) -> CodeVersion | None:
    row = conn.execute(select(code_versions).where(code_versions.c.id == version_id)).first()
    return None if row is None else code_version_record(row)


def code_version_record(row: Row) -> CodeVersion:
    return CodeVersion(
        id=row.id, digest=row.digest, info=json.loads(row.info), diff=row.diff, created_at=row.created_at
    )
