"""core.uow.after_commit: a callback runs once the transaction commits, never when a
savepoint is only released (SQLAlchemy 2 reports that as a commit too), and a savepoint
rolled back drops only what was registered inside it (issue 21: a refused row of a bulk
approval or a roster import must not send the others' news early, nor drop them)."""

from __future__ import annotations

from timebank.core.uow import after_commit
from timebank.extensions import db
from timebank.units.models import Unit


def _write():
    db.session.add(Unit(name="测试", kind="street"))
    db.session.flush()


def test_a_released_savepoint_sends_nothing_and_a_rolled_back_one_drops_its_own(app):
    ran = []
    _write()
    after_commit(db.session, lambda: ran.append("outer"))
    with db.session.begin_nested():
        _write()
        after_commit(db.session, lambda: ran.append("kept"))
    assert ran == []  # the savepoint's release is no commit
    try:
        with db.session.begin_nested():
            _write()
            after_commit(db.session, lambda: ran.append("refused row"))
            raise RuntimeError("refused")
    except RuntimeError:
        pass
    assert ran == []
    db.session.commit()
    assert ran == ["outer", "kept"]


def test_a_rollback_drops_everything(app):
    ran = []
    _write()
    after_commit(db.session, lambda: ran.append("outer"))
    with db.session.begin_nested():
        after_commit(db.session, lambda: ran.append("inner"))
    db.session.rollback()
    db.session.commit()
    assert ran == []
