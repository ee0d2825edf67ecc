import pytest

from timebank.core import access
from timebank.core.access import Target
from timebank.extensions import db
from timebank.people import operations as people
from timebank.reports.models import Certificate
from timebank.units.models import Unit


@pytest.mark.demo  # the demo `make run` loads on SQLite
def test_demo_loads_once_with_realistic_data(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "--members", "40"])
    assert first.exit_code == 0, first.output
    assert "Demo loaded" in first.output and "13800000000" in first.output
    units = db.session.scalar(db.select(db.func.count()).select_from(Unit))
    assert units == 1 + 3 + 9 + 27
    organizer = people.find_member_by_phone("13800000001")
    assert access.may(organizer, "members.approve", Target(unit=organizer.home_unit_id))
    reported = people.list_members(organizer.home_unit_id, party="reported")
    assert reported and all(m.party.reported_on for m in reported)
    issued = db.session.scalars(db.select(Certificate).where(Certificate.status == "issued"))
    issued = issued.all()
    assert issued and all(cert.checkpoint_id for cert in issued), "demo certificates are sealed"
    second = runner.invoke(args=["demo", "--members", "40"])
    assert second.exit_code == 0 and "already loaded" in second.output
    assert db.session.scalar(db.select(db.func.count()).select_from(Unit)) == units


def test_create_admin(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-admin", "--phone", "13812345678", "--name", "管理员"],
        input="admin-password\nadmin-password\n",
    )
    assert result.exit_code == 0, result.output
    admin = people.find_member_by_phone("13812345678")
    assert access.is_admin(admin)
    assert people.authenticate("13812345678", "admin-password") is admin
    bad = runner.invoke(
        args=["create-admin", "--phone", "12", "--name", "x"],
        input="admin-password\nadmin-password\n",
    )
    assert bad.exit_code != 0 and "11-digit" in bad.output


def test_production_refuses_to_start_without_secret(monkeypatch):
    import pytest

    from timebank import create_app
    from timebank.config import ConfigError

    monkeypatch.setenv("TIMEBANK_ENV", "production")
    monkeypatch.delenv("TIMEBANK_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="TIMEBANK_SECRET_KEY"):
        create_app()
