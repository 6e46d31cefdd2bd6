"""The tables of a store (SQLAlchemy Core) and the schema version they make.

Changing a table means bumping ``SCHEMA_VERSION`` and registering the step
that upgrades older stores in ``migrations.STEPS``.

JSON documents (specs, scientific values, params) are stored as text written
by ``json.dumps(..., allow_nan=True)``: tunebook reads them back with Python,
so NaN and infinities survive. Curves are stored in chunks, one row per metric
per ``log_curves`` call, holding little-endian int64 steps and float64 values.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

SCHEMA_VERSION = 3


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend.

    SQLite has no time zones: values are stored as naive UTC (fixed-width text,
    so comparisons order correctly) and come back tagged UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"timestamps must be timezone-aware, got {value!r}")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


metadata = MetaData()

meta = Table(
    "tunebook_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

experiments = Table(
    "experiments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("spec", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("source", Text),  # the spec file it was last run from
)

studies = Table(
    "studies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("experiment_id", Integer, ForeignKey("experiments.id", ondelete="CASCADE"), nullable=False),
    Column("key", Text, nullable=False),
    Column("scientific", Text, nullable=False),
    Column("budget", Integer, nullable=False),
    # the number the next new trial gets: claims read and bump it, O(1)
    Column("next_number", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    # v2: a retrain study reruns one trial's configuration; NULL for a search study
    Column("source_trial_id", Integer, ForeignKey("trials.id", ondelete="SET NULL", use_alter=True)),
    UniqueConstraint("experiment_id", "key"),
)

code_versions = Table(
    "code_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    # sha256 of the canonical JSON of (info, diff): identical versions share one row
    Column("digest", String(64), nullable=False, unique=True),
    Column("info", Text, nullable=False),  # JSON: commit, dirty, packages, python, host, ...
    Column("diff", Text),  # the uncommitted diff (size-capped), NULL when clean or not a repository
    Column("created_at", UTCDateTime, nullable=False),
)

trials = Table(
    "trials",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("study_id", Integer, ForeignKey("studies.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("params", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempt", Integer, nullable=False, default=0),
    Column("worker", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime),
    Column("finished_at", UTCDateTime),
    Column("heartbeat_at", UTCDateTime),
    Column("objective", Float),
    Column("best_step", BigInteger),
    Column("reason", Text),
    # v2: what produced the trial (NULL when unknown, e.g. imported or run before v2)
    Column("code_version_id", Integer, ForeignKey("code_versions.id", ondelete="SET NULL")),
    # v2: JSON, how the sampler chose the params (e.g. BO: initial point or model, the trials it saw)
    Column("suggestion", Text),
    # the final guard against two claims of one number
    UniqueConstraint("study_id", "number"),
    # claims look up the lowest-numbered WAITING trial; reclaims the RUNNING ones
    Index("ix_trials_study_state_number", "study_id", "state", "number"),
)

curve_chunks = Table(
    "curve_chunks",
    metadata,
    # ids grow with each append, so they give the logging order
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("trial_id", Integer, ForeignKey("trials.id", ondelete="CASCADE"), nullable=False),
    Column("metric", Text, nullable=False),
    Column("n", Integer, nullable=False),
    Column("steps", LargeBinary, nullable=False),  # n little-endian int64
    Column("vals", LargeBinary, nullable=False),  # n little-endian float64
    Index("ix_curve_chunks_trial", "trial_id", "id"),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("trial_id", Integer, ForeignKey("trials.id", ondelete="CASCADE"), primary_key=True),
    Column("step", BigInteger, primary_key=True, autoincrement=False),
    Column("path", Text, nullable=False),
    Column("value", Float),
    Column("created_at", UTCDateTime, nullable=False),
)

notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("experiment_id", Integer, ForeignKey("experiments.id", ondelete="CASCADE"), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # v3: the trial the note is about (its experiment's trial); NULL for a note on the experiment
    Column("trial_id", Integer, ForeignKey("trials.id", ondelete="CASCADE")),
    Index("ix_notes_trial", "trial_id"),
)

launches = Table(
    "launches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("line", Text, nullable=False),  # the baseline line the launch belongs to
    Column("seq", Integer, nullable=False),  # 0, 1, 2, ... within its line
    Column("entry", Text, nullable=False),  # JSON: configuration, evidence, code version, note, ...
    Column("prev_hash", String(64)),  # the previous entry's hash; NULL for the first
    Column("hash", String(64), nullable=False),  # sha256 over (prev_hash, entry): an edit breaks the chain
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("line", "seq"),
)
