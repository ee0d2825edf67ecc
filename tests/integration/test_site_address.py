"""Finding 14 of issue 21: links written by scheduled jobs open the site where it is
served, as links on pages do: ``timebank setup --url`` (``make run`` passes its port)
records the address for jobs and the CLI; TIMEBANK_BASE_URL still wins over both."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests import factories
from tests.activities_factories import create_activity
from timebank.activities import operations as activities
from timebank.core.clock import utcnow
from timebank.core.urls import DEVELOPMENT_URL, public_url, recorded_site_url
from timebank.extensions import db
from timebank.inbox import channels
from timebank.jobs import JOBS
from timebank.scheduling import operations as scheduling


@pytest.fixture
def instance(app):
    """This test's instance folder: the ``app`` fixture gives each test a fresh one."""
    return Path(app.instance_path)


@pytest.fixture
def sent(monkeypatch):
    messages = []

    def deliver(message, *, by_sms=False):
        messages.append(message)

    monkeypatch.setattr(channels, "deliver", deliver)
    from timebank.inbox import operations as inbox_operations

    monkeypatch.setattr(inbox_operations, "deliver", deliver)
    return messages


def test_setup_records_the_address_and_a_job_s_links_use_it(app, instance, district, sent):
    assert public_url("/x") == f"{DEVELOPMENT_URL}/x"  # nothing recorded: the default
    result = app.test_cli_runner().invoke(
        args=["setup", "--no-demo", "--url", "http://127.0.0.1:8123/"]
    )
    assert result.exit_code == 0, result.output
    assert recorded_site_url() == "http://127.0.0.1:8123"
    organizer = factories.create_member(district["a"], roles=("organizer",))
    volunteer = factories.create_member(district["building_a"], name="王秀英")
    activity = create_activity(
        district["a"], organizer=organizer, starts_at=utcnow() + timedelta(hours=20)
    )
    activities.sign_up(activity, volunteer)
    db.session.commit()
    [run] = scheduling.run_job(
        scheduling.find_job(JOBS, "remind-activities"), now=utcnow(), trigger="manual",
        runner="test",
    )  # fmt: skip
    assert run.outcome == "ok" and run.counts["day_before"] == 1
    [message] = sent
    assert message.url == f"http://127.0.0.1:8123/activities/{activity.id}"
    # a page answers with the address it was asked at, as before
    with app.test_request_context("/", base_url="http://tb.lanzhou.example:8080"):
        assert public_url("/x") == "http://tb.lanzhou.example:8080/x"


def test_the_configured_address_wins_and_a_bad_one_is_refused(app, instance, monkeypatch):
    runner = app.test_cli_runner()
    bad = runner.invoke(args=["setup", "--no-demo", "--url", "127.0.0.1:8123"])
    assert bad.exit_code != 0 and "--url" in bad.output
    assert recorded_site_url() == ""
    assert runner.invoke(args=["setup", "--no-demo", "--url", "http://a.example"]).exit_code == 0
    monkeypatch.setitem(app.config, "TIMEBANK_BASE_URL", "https://timebank.example.cn")
    assert public_url("/x") == "https://timebank.example.cn/x"
