"""The unit of work: one transaction per request, job or command.

The edge opens it (``ApiView`` for the API, ``page`` for pages, ``command`` for the
CLI and jobs); operations only flush. It commits once at the end, rolls back on any
error (keeping only what an error class marks ``commit_anyway``), and runs the
after-commit callbacks (SMS, notifications) once the commit has succeeded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import Session

from timebank.core.errors import DomainError

_AFTER_COMMIT = "timebank_after_commit"


@contextmanager
def unit_of_work(session: Session | None = None) -> Iterator[Session]:
    """Commit what the block flushed, once; roll back if it raises."""
    if session is None:
        from timebank.extensions import db

        session = db.session
    try:
        yield session
    except DomainError as error:
        if not _opened(session):
            raise
        if error.commit_anyway:
            session.commit()
        else:
            session.rollback()
        raise
    except BaseException:
        if _opened(session):
            session.rollback()
        raise
    else:
        if _opened(session):
            session.commit()


def _opened(session: Session) -> bool:
    """Whether the block asked for its session at all. A request that never did (a health
    probe reads on a connection of its own) has nothing to commit or roll back, and a
    scoped session would make one only to commit it empty."""
    registry = getattr(session, "registry", None)  # a scoped session's sessions, by request
    return registry is None or registry.has()


@contextmanager
def read_phase(session: Session | None = None) -> Iterator[None]:
    """Reads that end their own transaction before the block returns, so slow work after
    them (argon2 checking a password) holds no lock. On SQLite the transaction begins
    deferred: a login flood must not take the write lock everyone else waits for.

    If the request already began a transaction, the reads simply join it.
    """
    from timebank.core.db import reading_phase

    if session is None:
        from timebank.extensions import db

        session = db.session
    active = session.registry() if hasattr(session, "registry") else session  # scoped session
    if active.in_transaction():
        yield
        return
    token = reading_phase.set(True)
    try:
        yield
        if active.in_transaction():  # the block read something (it may have asked nothing)
            session.commit()  # nothing was written: this ends the read transaction
    finally:
        reading_phase.reset(token)


@contextmanager
def reads_before_writes(session: Session | None = None) -> Iterator[None]:
    """The reads a writing request makes before it writes, where they would otherwise hold
    everyone up: on SQLite a transaction that writes takes the one write lock with its
    first statement, so these reads run in a ``read_phase`` of their own and the lock is
    held only from the first write to the commit. PostgreSQL's readers block no one:
    there the block simply joins the request's transaction.

    What the block read may have changed by the time the request writes, as it may on
    PostgreSQL under READ COMMITTED. So nothing read here may decide a write on rows it
    did not see: a check that guards a write is made again on the locked rows, carried by
    a conditional UPDATE or a constraint, or reads only facts that never change (an
    offer's shop, a unit's place in the tree). docs/checks-under-lock.md lists every use
    and why it is safe.
    """
    from timebank.core.db import reading_request
    from timebank.extensions import db

    if reading_request() or db.engine.dialect.name != "sqlite":
        yield
        return
    with read_phase(session):
        yield


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the session's transaction commits; drop it on rollback, or
    when the savepoint it was registered in rolls back (a row of a bulk action refused
    must not take the others' notices with it)."""
    active = session.registry() if hasattr(session, "registry") else session  # scoped session
    registered_in = active.get_nested_transaction() or active.get_transaction()
    session.info.setdefault(_AFTER_COMMIT, []).append((registered_in, callback))


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint released (SQLAlchemy 2 tells that too): nothing is committed
    for _registered_in, callback in session.info.pop(_AFTER_COMMIT, []):
        callback()


def _within(transaction, rolled_back) -> bool:
    while transaction is not None:
        if transaction is rolled_back:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session: Session, previous_transaction) -> None:
    waiting = session.info.get(_AFTER_COMMIT)
    if not waiting:
        return
    kept = [
        (registered_in, callback)
        for registered_in, callback in waiting
        if registered_in is not None and not _within(registered_in, previous_transaction)
    ]
    if kept and previous_transaction.nested:
        session.info[_AFTER_COMMIT] = kept
    else:
        session.info.pop(_AFTER_COMMIT, None)
