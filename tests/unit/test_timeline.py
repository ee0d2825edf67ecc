"""The demo's timeline runs what several modules scheduled in time order, once."""

from datetime import UTC, datetime, timedelta

from timebank.core.timeline import Timeline


def test_steps_run_oldest_first_ties_in_order_scheduled_and_once():
    start = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)
    ran: list[str] = []
    timeline = Timeline()
    timeline.at(start + timedelta(days=2), ran.append, "shop redeems")
    timeline.at(start, ran.append, "activity approved")
    timeline.at(start + timedelta(days=2), ran.append, "refund")
    timeline.at(start + timedelta(days=1), lambda what: ran.append(what), what="award")
    ticks: list[int] = []
    assert timeline.run(progress=ticks.append) == 4
    assert ran == ["activity approved", "award", "shop redeems", "refund"]
    assert ticks == [1, 1, 1, 1]
    assert timeline.run() == 0 and len(ran) == 4
