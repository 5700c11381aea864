"""Statements run on the driver's cursor (`prepared.py`) behave as `Connection.execute` would."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    bindparam,
    literal,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError, IntegrityError

from mloop.storage.sql.dialect import insert_ignore_for, upsert_for
from mloop.storage.sql.engine import make_engine, with_retries, write_transaction
from mloop.storage.sql.prepared import Prepared, PreparedRows
from tests.pg_connections import kill_connections

_metadata = MetaData()
_items = Table(
    "prepared_items",
    _metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(50), nullable=False),
    Column("flag", Boolean, nullable=False),
    Column("score", Float, nullable=False),
    Column("blob", LargeBinary, nullable=False),
)

_INSERT = Prepared(lambda dialect: insert_ignore_for(dialect, _items))
_UPSERT = Prepared(
    lambda dialect: upsert_for(dialect, _items, keys=("id",), update=("name", "score"))
)
_RENAME = Prepared(
    lambda _dialect: (
        _items.update()
        .where(_items.c.id == bindparam("b_id"))
        .values(name=bindparam("b_name") + literal("!"))
        .returning(_items.c.id, _items.c.name)
    )
)


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    made = make_engine(store_url)
    _metadata.create_all(made)
    yield made
    made.dispose()


def _row(pk: int, name: str = "a", *, flag: bool = True) -> dict[str, object]:
    return {
        "id": pk,
        "name": name,
        "flag": flag,
        "score": pk / 2,
        "blob": bytes([pk % 256, 0, 255]),
    }


def _all(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(_items).order_by(_items.c.id))]


def test_rows_are_written_with_their_types_and_counted(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        assert _INSERT.executemany(conn, [_row(1), _row(2, flag=False)]) == 2
        # Insert-or-ignore: the changed-row count says which were new (both drivers sum it).
        assert _INSERT.executemany(conn, [_row(2, "other"), _row(3)]) == 1
        assert _INSERT.executemany(conn, []) == 0
    assert _all(engine) == [
        (1, "a", True, 0.5, bytes([1, 0, 255])),
        (2, "a", False, 1.0, bytes([2, 0, 255])),
        (3, "a", True, 1.5, bytes([3, 0, 255])),
    ]


def test_upserts_and_returning_rows(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        _INSERT.executemany(conn, [_row(1)])
        _UPSERT.executemany(conn, [dict(_row(1), name="b", score=math.inf), _row(4)])
        # A literal in the statement is bound by the statement itself, not by the caller.
        assert _RENAME.execute(conn, {"b_id": 4, "b_name": "d"}) == [(4, "d!")]
        assert _RENAME.execute(conn, {"b_id": 99, "b_name": "x"}) == []
    assert [(r[0], r[1], r[3]) for r in _all(engine)] == [(1, "b", math.inf), (4, "d!", 2.0)]


def test_driver_errors_come_out_as_sqlalchemy_errors_and_roll_back(engine: Engine) -> None:
    def write() -> None:
        with write_transaction(engine) as conn:
            _INSERT.executemany(conn, [_row(5)])
            _INSERT.execute(conn, dict(_row(6), name=None))  # NOT NULL

    with pytest.raises(IntegrityError) as caught:
        write()
    assert "prepared_items" in str(caught.value.statement)
    assert not caught.value.connection_invalidated
    assert _all(engine) == []  # the whole transaction was rolled back


def test_a_missing_value_is_refused_before_the_driver_runs(engine: Engine) -> None:
    with pytest.raises(KeyError, match="flag"), write_transaction(engine) as conn:
        _INSERT.execute(conn, {"id": 1, "name": "a", "score": 1.0, "blob": b""})
    assert _all(engine) == []


def test_expanding_parameters_are_refused(engine: Engine) -> None:
    prepared = Prepared(
        lambda _dialect: select(_items.c.id).where(
            _items.c.id.in_(bindparam("ids", expanding=True))
        )
    )
    with engine.connect() as conn, pytest.raises(ValueError, match="expanding"):
        prepared.execute(conn, {"ids": [1]})


def test_a_connection_dropped_mid_transaction_is_invalidated_and_retried(
    named_url: str, admin: Engine
) -> None:
    engine = make_engine(named_url)  # PostgreSQL only: `named_url` skips SQLite
    _metadata.create_all(engine)
    attempts: list[bool] = []

    def write() -> None:
        with write_transaction(engine) as conn:
            if not attempts:
                pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
                assert kill_connections(admin, named_url, pid=pid) == 1
            try:
                _INSERT.executemany(conn, [_row(7)])
            except DBAPIError as exc:
                attempts.append(exc.connection_invalidated)
                assert conn.invalidated
                raise
            attempts.append(False)

    try:
        with_retries(write, what="writing through a dropped connection")
        assert attempts == [True, False]  # dropped, invalidated, retried on a new connection
        assert [r[0] for r in _all(engine)] == [7]
    finally:
        engine.dispose()


def _higher_score(excluded: object) -> object:
    return _items.c.score < excluded.score  # type: ignore[attr-defined]


_ROWS_INSERT = PreparedRows(_items)
_ROWS_UPSERT = PreparedRows(_items, keys=("id",), update=("name", "score"), where=_higher_score)


def test_many_rows_go_in_one_call_with_their_types(engine: Engine) -> None:
    rows = [_row(i, flag=i % 2 == 0) for i in range(1, 1001)]
    with write_transaction(engine) as conn:
        assert _ROWS_INSERT.executemany(conn, rows) == 1000
        # Insert-or-ignore counts only the new rows, as the driver's executemany does.
        assert _ROWS_INSERT.executemany(conn, [_row(1, "x"), _row(1001)]) == 1
        assert _ROWS_INSERT.executemany(conn, []) == 0
    stored = _all(engine)
    assert len(stored) == 1001
    assert stored[0] == (1, "a", False, 0.5, bytes([1, 0, 255]))
    assert stored[999] == (1000, "a", True, 500.0, bytes([1000 % 256, 0, 255]))


def test_an_upsert_of_many_rows_updates_only_where_its_condition_holds(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        _ROWS_INSERT.executemany(conn, [_row(1), _row(2)])  # scores 0.5 and 1.0
        changed = _ROWS_UPSERT.executemany(
            conn,
            [
                dict(_row(1), name="higher", score=math.inf),
                dict(_row(2), name="lower", score=0.25),
                dict(_row(3), name="new"),
            ],
        )
    assert changed == 2  # row 1 updated, row 3 inserted, row 2 left alone
    assert [(r[0], r[1], r[3]) for r in _all(engine)] == [
        (1, "higher", math.inf),
        (2, "a", 1.0),
        (3, "new", 1.5),
    ]
