"""The demo's three lists: every state of a project and a need on the first visit, approved
hours in balances, statements and the party report, a ledger that verifies, and a second
run that changes nothing."""

import pytest
import sqlalchemy as sa

from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.people import operations as people
from timebank.projects.models import (
    NEED_STATUSES,
    PROJECT_STATUSES,
    HourLog,
    Need,
    Project,
    Resource,
)
from timebank.reports import operations as reports

pytestmark = pytest.mark.demo  # the demo `make run` loads on SQLite


def counts(model, column) -> dict:
    return dict(db.session.execute(sa.select(column, sa.func.count()).group_by(column)).all())


def test_the_demo_shows_every_state_with_history(app, tmp_path):
    app.config["TIMEBANK_PHOTO_DIR"] = str(tmp_path)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "--members", "40"])
    assert first.exit_code == 0, first.output
    assert "Demo lists:" in first.output
    assert set(counts(Project, Project.status)) == set(PROJECT_STATUSES)
    assert set(counts(Need, Need.status)) == set(NEED_STATUSES)
    assert set(counts(HourLog, HourLog.status)) == {"pending", "approved", "rejected"}
    titles = set(db.session.scalars(sa.select(Need.title)))
    assert {"污水外溢", "飞线充电", "路灯不亮", "独居老人中午吃饭难", "想要一辆轮椅"} <= titles
    resources = set(db.session.scalars(sa.select(Resource.title)))
    assert {"免费健康体检与义诊", "周六公益用车(面包车)", "社区办公活动场地1500平方米"} <= resources
    rated = db.session.scalar(sa.select(Need).where(Need.title == "污水外溢"))
    assert (rated.status, rated.rating) == ("resolved", 5)
    served = db.session.scalars(
        sa.select(HourLog.member_id).where(HourLog.status == "approved")
    ).all()
    assert all(ledger.balances(m)["HOURS"]["balance"] > 0 for m in served)
    assert ledger.member_history(served[0])
    assert ledger.verify_ledger().ok
    organizer = people.find_member_by_phone("13800000001")
    rows = reports.party_report(organizer.home_unit_id)
    assert any(r.project_minutes > 0 for r in rows)
    before = (counts(Project, Project.status), counts(Need, Need.status))
    second = runner.invoke(args=["demo", "--members", "40"])
    assert second.exit_code == 0 and "already loaded" in second.output
    assert (counts(Project, Project.status), counts(Need, Need.status)) == before
