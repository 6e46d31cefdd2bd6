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

SCHEMA_VERSION = 1


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
    UniqueConstraint("experiment_id", "key"),
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
)
