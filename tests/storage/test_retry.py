"""Which store failures are retried (a dropped PostgreSQL connection) and which are said at once, with advice."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from tunebook.core.errors import StoreError
from tunebook.storage.advice import advice, with_advice
from tunebook.storage.retry import call_retrying, is_transient


def _store_error(cause: Exception) -> StoreError:
    try:
        raise StoreError(f"store x failed: {cause}") from cause
    except StoreError as exc:
        return exc


def _flaky(failures: list[Exception]):
    calls = []

    def attempt():
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return "done"

    return attempt, calls


def test_a_dropped_postgres_connection_is_retried_until_it_comes_back():
    dropped = OperationalError("SELECT 1", {}, psycopg.OperationalError("server closed the connection unexpectedly"))
    attempt, calls = _flaky([_store_error(dropped), _store_error(dropped)])
    assert call_retrying("reading", attempt, delays=(0, 0, 0)) == "done"
    assert len(calls) == 3


def test_retries_are_bounded_and_the_last_failure_is_raised():
    dropped = OperationalError("SELECT 1", {}, psycopg.OperationalError("connection refused"))
    attempt, calls = _flaky([_store_error(dropped) for _ in range(5)])
    with pytest.raises(StoreError, match="connection refused"):
        call_retrying("reading", attempt, delays=(0, 0))
    assert len(calls) == 3  # the first call and one per delay


@pytest.mark.parametrize("cause", [
    OperationalError("INSERT", {}, sqlite3.OperationalError("database or disk is full")),  # waiting frees no disk
    IntegrityError("INSERT", {}, psycopg.errors.UniqueViolation("duplicate key")),
    ValueError("not a database failure"),
])
def test_other_failures_are_raised_at_once(cause):
    attempt, calls = _flaky([_store_error(cause)])
    assert not is_transient(_store_error(cause))
    with pytest.raises(StoreError):
        call_retrying("writing", attempt, delays=(0, 0))
    assert len(calls) == 1


@pytest.mark.parametrize("message, words", [
    ("database or disk is full", "the disk holding the store is full"),
    ("attempt to write a readonly database", "make it writable"),
    ('connection failed: connection to server at "127.0.0.1", port 5 failed: Connection refused', "server is unreachable"),
])
def test_known_failures_say_what_to_do(message, words):
    assert words in advice(message) and "run the same command again" in advice(message)
    assert with_advice(message).startswith(message)


def test_an_unknown_failure_gets_no_made_up_advice():
    assert advice("syntax error at or near SELEC") == ""
    assert with_advice("syntax error") == "syntax error"
