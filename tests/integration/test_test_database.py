"""The harness's reset (tests/conftest.py): what one test writes, the next never sees, on
SQLite (a fresh copy of the template) and on PostgreSQL (a rolled-back transaction, or a
TRUNCATE after a ``concurrent`` test), and the app's clock, configuration and throttles
come back as they were."""

from __future__ import annotations

import os
import textwrap
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from tests import factories
from tests.conftest import ON_POSTGRES, TEST_DATABASE_URL, _postgres_admin
from timebank.extensions import db
from timebank.units.models import Unit


def units_named(name: str) -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(Unit.name == name))


def test_a_committed_row_is_gone_after_a_reset(app, test_database):
    factories.create_unit(name="留下的痕迹")
    db.session.commit()
    assert units_named("留下的痕迹") == 1
    test_database.reset()
    assert units_named("留下的痕迹") == 0


@pytest.mark.concurrent
def test_a_concurrent_test_commits_for_real_and_is_emptied_after(app, test_database):
    factories.create_unit(name="真提交")
    db.session.commit()
    with db.engine.connect() as other:  # another connection sees it: a real commit
        seen = other.scalar(sa.select(sa.func.count()).where(Unit.name == "真提交"))
    assert seen == 1
    test_database.reset()
    assert units_named("真提交") == 0


def test_the_code_under_test_rolls_back_without_losing_what_was_committed(app):
    factories.create_unit(name="已提交")
    db.session.commit()
    factories.create_unit(name="回滚")
    db.session.rollback()
    assert (units_named("已提交"), units_named("回滚")) == (1, 0)


def test_the_clock_is_set_in_one_place_for_every_module(app, clock):
    from timebank.activities.operations import scans
    from timebank.ledger.operations import posting

    clock.freeze(datetime(2026, 3, 31, 16, 0, tzinfo=UTC))
    assert scans.utcnow() == posting.utcnow() == datetime(2026, 3, 31, 16, 0, tzinfo=UTC)
    unit = factories.create_unit(name="冻结时刻")
    db.session.flush()
    assert unit.created_at == datetime(2026, 3, 31, 16, 0, tzinfo=UTC)


LEAKY_TESTS = textwrap.dedent(
    """
    import pytest
    import sqlalchemy as sa

    from tests import factories
    from timebank.extensions import db
    from timebank.units.models import Unit


    def names():
        return sorted(db.session.scalars(sa.select(Unit.name)))


    def test_1_writes_and_leaves_it_there(app, clock):
        factories.create_unit(name="leak")
        db.session.commit()
        app.config["TIMEBANK_POINT_VALUE_FEN"] = 999
        clock.freeze(clock.now().replace(year=2001))
        assert names() == ["leak"]


    def test_2_sees_none_of_it(app):
        from timebank.core.clock import utcnow

        assert names() == []
        assert app.config["TIMEBANK_POINT_VALUE_FEN"] == 10
        assert utcnow().year > 2001
    """
)


@pytest.mark.parametrize("concurrent", [False, True], ids=["rolled-back", "concurrent"])
def test_a_deliberate_leak_is_not_seen_by_the_next_test(
    pytester, project_root, monkeypatch, concurrent
):
    """Two tests in a fresh pytest run, in order, serially: the first writes a row, sets
    the configuration and the clock and cleans up nothing; the second finds none of it."""
    source = LEAKY_TESTS
    if concurrent:
        source = source.replace("def test_1", "@pytest.mark.concurrent\ndef test_1")
    pytester.makepyfile(test_leak=source)
    monkeypatch.setenv("PYTHONPATH", str(project_root))
    if ON_POSTGRES:  # databases of its own: test_leak_template, test_leak_master
        url = sa.make_url(TEST_DATABASE_URL).set(database=f"test_leak_{os.getpid()}")
        monkeypatch.setenv("TIMEBANK_TEST_DATABASE_URL", url.render_as_string(False))
    try:
        result = pytester.runpytest_subprocess(
            "-p", "tests.conftest", "-p", "no:randomly", "-p", "no:cacheprovider", "-n0",
            f"--rootdir={pytester.path}", "-q", "test_leak.py",
        )  # fmt: skip
    finally:
        if ON_POSTGRES:
            name = f"test_leak_{os.getpid()}"
            _postgres_admin(
                [f'DROP DATABASE IF EXISTS "{name}_{suffix}" WITH (FORCE)'
                 for suffix in ("template", "master")]
            )  # fmt: skip
    result.assert_outcomes(passed=2)
