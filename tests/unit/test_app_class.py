"""timebank's Flask subclass: what it changes of Flask's per-request work."""

from __future__ import annotations

import inspect

from timebank import TimebankFlask


def test_ensure_sync_asks_once_per_function_and_still_runs_coroutines_through_flask(
    monkeypatch,
):
    app = TimebankFlask(__name__)

    def view():
        return "sync"

    async def coroutine_view():
        return "async"

    class Method:
        def get(self):
            return "bound"

    assert app.ensure_sync(view) is view
    bound = Method().get
    assert app.ensure_sync(bound) is bound
    monkeypatch.setattr(app, "async_to_sync", lambda func: ("wrapped", func))
    assert app.ensure_sync(coroutine_view) == ("wrapped", coroutine_view)
    asked = []
    monkeypatch.setattr(inspect, "iscoroutinefunction", lambda func: asked.append(func))
    for _ in range(3):  # a new bound method each request, as a MethodView makes
        assert app.ensure_sync(view) is view
        assert app.ensure_sync(Method().get)() == "bound"
        assert app.ensure_sync(coroutine_view)[0] == "wrapped"
    assert asked == []
