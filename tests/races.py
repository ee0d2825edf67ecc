"""Real concurrent requests for the race tests (``@pytest.mark.concurrent``)."""

from __future__ import annotations

import threading

from timebank.core.errors import DomainError
from timebank.extensions import db


def race(app, *works):
    """Run each of ``works`` in its own thread, app context and session at once,
    committing like a request; returns each result, or the code of its DomainError."""
    outcomes: list = [None] * len(works)
    barrier = threading.Barrier(len(works))

    def runner(n):
        with app.app_context():
            try:
                barrier.wait()
                outcomes[n] = works[n]()
                db.session.commit()
            except DomainError as error:
                db.session.rollback()
                outcomes[n] = error.code
            except BaseException as error:  # noqa: BLE001 - the test reports any failure
                db.session.rollback()
                outcomes[n] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=runner, args=(n,)) for n in range(len(works))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
