"""Reports on a small world counted by hand (tests/reports_factories.py): periods and
their bounds at local midnight, roll-ups and their parts, the honour roll, the
dual-report quarter, service records."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests import factories
from tests.activities_factories import T0, create_activity
from tests.reports_factories import at, award, credit, quarter_world
from timebank.activities import operations as activities
from timebank.core.errors import DomainError
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.ledger.models import Transfer
from timebank.people import operations as people
from timebank.reports import operations as reports
from timebank.reports import periods
from timebank.reports.models import ReportFlow, ReportMark
from timebank.units import operations as units

Q1 = periods.quarter(2026, 1)


def code_of(callable_, *args, **kwargs) -> str:
    with pytest.raises(DomainError) as error:
        callable_(*args, **kwargs)
    return error.value.code


# ---------------------------------------------------------------- periods


def test_periods_start_and_end_at_local_midnight(app):
    assert Q1.start == at("2025-12-31T16:00") and Q1.end == at("2026-03-31T16:00")
    may = periods.parse("month", "2026-05")
    assert (may.first, may.last) == (date(2026, 5, 1), date(2026, 5, 31))
    assert may.start == at("2026-04-30T16:00") and may.end == at("2026-05-31T16:00")
    assert periods.parse("year", "2024").last == date(2024, 12, 31)
    assert periods.parse("quarter", "2026q4").end == at("2026-12-31T16:00")
    feb = periods.parse("custom", None, "2024-02-01", "2024-02-29")
    assert feb.end == at("2024-02-29T16:00") and feb.key == "2024-02-01..2024-02-29"
    assert periods.parse(None, None, "2026-01-01", "2026-01-01").kind == "custom"
    assert [m.isoformat() for m in Q1.months()] == ["2026-01-01", "2026-02-01", "2026-03-01"]
    assert Q1.month_bounds() == [at("2026-01-31T16:00"), at("2026-02-28T16:00")]
    assert periods.bucket_of(at("2026-01-31T15:59"), Q1.month_bounds()) == 0
    assert periods.bucket_of(at("2026-01-31T16:00"), Q1.month_bounds()) == 1


def test_bad_periods_are_refused_with_their_codes(app):
    assert code_of(periods.parse, "fortnight") == "invalid_period"
    assert code_of(periods.parse, "month", "2026-13") == "invalid_period"
    assert code_of(periods.parse, "quarter", "2026Q5") == "invalid_period"
    assert code_of(periods.parse, "custom", None, "2026-02-30", "2026-03-01") == "invalid_period"
    assert code_of(periods.parse, "custom", None, "2026-03-01", "2026-02-28") == "period_backwards"
    assert code_of(periods.parse, "custom", None, "2016-01-01", "2026-01-01") == "period_too_long"
    assert periods.parse("custom", None, "2016-01-02", "2026-01-01").kind == "custom"


# ---------------------------------------------------------------- roll-ups


def test_the_quarter_counted_by_hand(app, clock):
    w = quarter_world(clock)
    street = reports.unit_rollup(w["street"], Q1)
    assert (street.hours.earned, street.points.earned) == (300, 50)
    assert (street.volunteers, street.party_members) == (3, 1)
    assert [m.hours.earned for m in street.months] == [120, 90, 90]  # bob's 23:59 is March
    totals = street.totals
    assert totals["activities"] == 4 and totals["attendances"] == 4  # carol's 00:00 is Q2
    parts = {p.unit.name: p.figures for p in street.parts}
    assert parts["上坎社区"]["hours_minutes"] == 270 and parts["上坎社区"]["volunteers"] == 2
    assert parts["古浪路社区"]["points"] == 5 and parts["古浪路社区"]["party_members"] == 0
    categories = {c.code: (c.activities, c.attendances, c.minutes) for c in street.categories}
    assert categories == {"cleanup": (4, 4, 300)}
    april = reports.unit_rollup(w["street"], periods.parse("month", "2026-04"))
    assert april.hours.earned == 45 and april.volunteers == 1


def test_a_street_is_the_sum_of_its_communities(app, clock):
    w = quarter_world(clock)
    street = reports.unit_rollup(w["street"], Q1)
    communities = [reports.unit_rollup(w[name], Q1) for name in ("a", "b")]
    for key in ("hours_minutes", "points", "activities", "attendances", "volunteers"):
        assert street.totals[key] == sum(c.totals[key] for c in communities), key
    for name in ("earned", "awarded", "redeemed", "expired", "corrected"):
        assert getattr(street.points, name) == sum(getattr(c.points, name) for c in communities)
    for index in range(3):
        assert street.months[index].hours.earned == sum(
            c.months[index].hours.earned for c in communities
        )
    # a community's parts are its grids: 第1网格 holds alice and bob
    a = communities[0]
    grid = next(p for p in a.parts if not p.own)
    assert grid.figures["hours_minutes"] == 270 and grid.figures["volunteers"] == 2


def test_distinct_volunteers_are_counted_once_over_the_whole(app, clock):
    """Alice earned in two months and at two units: one volunteer, not two."""
    w = quarter_world(clock)
    credit(clock, w["alice"], w["b"], w["organizer_b"], minutes=15, points=0,
           when=at("2026-03-01T02:00"))  # fmt: skip
    street = reports.unit_rollup(w["street"], Q1)
    assert street.volunteers == 3 and street.hours.earned == 315
    # the hours count where alice lives (her account's unit), not where she served
    assert reports.unit_rollup(w["a"], Q1).hours.earned == 285


def _award_bob_and_expire_alice(clock, w):
    """An award of 60 minutes to bob on 2 March, then 7 of alice's points expired on 3
    March; returns alice's POINTS account."""
    award(clock, w["bob"], w["a"], w["organizer_a"], factories.create_member(
        w["a"], roles=("organizer",)), minutes=60, when=at("2026-03-02T02:00"))  # fmt: skip
    clock.freeze(at("2026-03-03T02:00"))
    points = ledger.member_account(w["alice"].id, "POINTS", unit_id=w["building_a"].id)
    expiry = ledger.system_account(w["building_a"].id, "POINTS", "expiry")
    ledger.post_transfer(
        ledger="POINTS", debit_account_id=points.id, credit_account_id=expiry.id, amount=7,
        code="expire", idempotency_key=f"expire:{points.id}",
    )  # fmt: skip
    return points


def test_redemptions_expiry_awards_and_corrections(app, clock):
    w = quarter_world(clock)
    points = _award_bob_and_expire_alice(clock, w)
    shop = ledger.merchant_account(1, "POINTS")
    ledger.post_transfer(
        ledger="POINTS", debit_account_id=points.id, credit_account_id=shop.id, amount=5,
        code="redeem", idempotency_key="redeem:test",
    )  # fmt: skip
    street = reports.unit_rollup(w["street"], Q1)
    assert street.hours.awarded == 60 and street.hours.earned == 300
    assert street.points.expired == 7 and street.points.redeemed == 5
    assert street.volunteers == 3  # an award is not service


# ---------------------------------------------------------------- honour roll


def test_honour_roll_ranks_verified_credits_with_a_fixed_tie_break(app, clock):
    w = quarter_world(clock)
    # dave ties with bob at 90 minutes, but reached it later: bob ranks first
    dave = factories.create_member(w["building_a"], name="赵强")
    credit(clock, dave, w["a"], w["organizer_a"], minutes=90, points=0,
           when=at("2026-03-31T15:59") + timedelta(seconds=30))  # fmt: skip
    db.session.commit()
    places = reports.honour_roll(w["street"].id, Q1)
    assert [(p.member.name, p.amount) for p in places][:2] == [("王秀英", 180), ("张伟", 90)]
    assert [p.member.name for p in places] == ["王秀英", "张伟", "赵强", "刘芳"]
    assert [p.rank for p in places] == [1, 2, 3, 4] and places[0].party
    by_points = reports.honour_roll(w["street"].id, Q1, by="points")
    assert [(p.member.name, p.amount) for p in by_points][:2] == [("王秀英", 30), ("张伟", 15)]


def test_honour_roll_leaves_out_manual_awards_on_request_and_who_opted_out(app, clock):
    w = quarter_world(clock)
    second = factories.create_member(w["a"], roles=("organizer",))
    award(clock, w["bob"], w["a"], w["organizer_a"], second, minutes=120,
          when=at("2026-03-02T02:00"))  # fmt: skip
    with_awards = reports.honour_roll(w["a"].id, Q1)
    assert [(p.member.name, p.amount) for p in with_awards] == [("张伟", 210), ("王秀英", 180)]
    without = reports.honour_roll(w["a"].id, Q1, include_manual=False)
    assert [(p.member.name, p.amount) for p in without] == [("王秀英", 180), ("张伟", 90)]
    reports.set_hidden(w["alice"], True)
    assert [p.member.name for p in reports.honour_roll(w["a"].id, Q1)] == ["张伟"]
    reports.set_hidden(w["alice"], False)
    assert len(reports.honour_roll(w["a"].id, Q1)) == 2


def test_a_correction_takes_a_credit_back_everywhere(app, clock):
    w = quarter_world(clock)
    bob_credit = next(
        t for t in ledger.member_history(w["bob"].id) if t.ledger == "HOURS"
    )  # the 90 minutes
    clock.freeze(at("2026-03-31T15:00"))
    ledger.correct_transfer(
        bob_credit.transfer_id, amount=30, memo="多记了半小时", actor_id=w["organizer_a"].id,
        idempotency_key="correct:bob", unit_id=w["a"].id,
    )  # fmt: skip
    places = {p.member.name: p.amount for p in reports.honour_roll(w["a"].id, Q1)}
    assert places["张伟"] == 60
    record = reports.service_record(w["bob"].id, Q1)
    assert record.minutes == 60 and len(record.entry_ids) == 2


# ---------------------------------------------------------------- records


def test_service_record_by_activity(app, clock):
    w = quarter_world(clock)
    record = reports.service_record(w["alice"].id, Q1)
    assert record.minutes == 180 and record.manual_minutes == 0
    assert [(line.title, line.minutes, line.times) for line in record.lines] == [
        ("垃圾分类督导", 120, 1),
        ("助老送餐", 60, 1),
    ]
    assert record.watermark == max(record.entry_ids)
    assert reports.service_record(w["carol"].id, Q1).minutes == 30


# ---------------------------------------------------------------- party quarter


@pytest.fixture
def d(app):
    return factories.create_district()


def scan(activity, member, when):
    token = activities.kiosk_token(activity.id, activities.step_of(when))
    return activities.check_in(member, token, now=when)


def test_party_report_for_the_quarter(d):
    organizer = factories.create_member(d["a"], roles=("organizer",))
    reported = factories.create_member(d["building_a"], name="甲")
    silent = factories.create_member(d["building_a"], name="乙")
    people.register_party(
        reported, branch="一支部", reported_unit_id=d["a"].id, reported_on=date(2026, 1, 5)
    )
    people.register_party(silent, branch="二支部")
    party = create_activity(d["a"], organizer=organizer, kind="party", category="party_day")
    service = create_activity(d["a"], organizer=organizer, requires_checkout=False, hours=1.5)
    scan(party, reported, T0)
    attendance = scan(service, reported, T0).attendance
    activities.approve_attendance(
        service, [attendance.id], actor=organizer, now=T0 + timedelta(hours=2)
    )
    rows = {r.member.name: r for r in reports.party_report(d["a"].id, now=T0 + timedelta(days=1))}
    assert rows["甲"].reported and rows["甲"].party_activities == 1
    assert rows["甲"].service_minutes == 90 and rows["甲"].minutes_due == 30
    assert not rows["甲"].activities_due and not rows["甲"].done
    assert not rows["乙"].reported and rows["乙"].party_activities == 0 and not rows["乙"].served
    next_quarter = reports.party_report(d["a"].id, now=T0 + timedelta(days=100))
    assert all(r.party_activities == 0 and r.service_minutes == 0 for r in next_quarter)
    branches = {
        b.branch: (b.members, b.served, b.minutes) for b in reports.by_branch(rows.values())
    }
    assert branches == {"一支部": (1, 1, 90), "二支部": (1, 0, 0)}
    only = reports.party_report(d["a"].id, now=T0, branch="二支部")
    assert [r.member.name for r in only] == ["乙"]
    mine = reports.my_quarter(reported, periods.quarter_of(T0))
    assert [(line.kind, line.minutes) for line in mine.lines] == [("party", 0), ("service", 90)]


def test_a_party_member_reported_in_from_elsewhere_counts_where_they_reported(d):
    outsider = factories.create_member(d["building_b"], name="丙")
    people.register_party(
        outsider, branch="一支部", reported_unit_id=d["a"].id, reported_on=date(2026, 1, 5)
    )
    assert [r.member.name for r in reports.party_report(d["a"].id, now=T0)] == ["丙"]
    assert [r.member.name for r in reports.party_report(d["b"].id, now=T0)] == ["丙"]
    assert units.is_within(d["building_b"].id, d["b"].id)


# ---------------------------------------------------------------- the derived flows


def _snapshot(rollup) -> tuple:
    flows = [vars(rollup.hours).copy(), vars(rollup.points).copy()]
    months = [(vars(m.hours).copy(), vars(m.points).copy()) for m in rollup.months]
    parts = [(p.unit.id, dict(p.figures)) for p in rollup.parts]
    return (flows, months, parts, rollup.volunteers, rollup.party_members)


def test_the_derived_flows_agree_with_the_ledger(app, clock):
    """Roll-ups read report_flows up to its mark and the ledger past it: the same figures
    from the ledger alone, from the table alone, half and half, and after a rebuild."""
    w = quarter_world(clock)
    _award_bob_and_expire_alice(clock, w)
    clock.freeze(at("2026-04-02T02:00"))
    year = periods.parse("year", "2026")
    assert reports.flows_mark() == 0
    from_ledger = [
        _snapshot(reports.unit_rollup(w[u], p)) for u in ("street", "a") for p in (Q1, year)
    ]
    last_id = max(t.id for t in db.session.query(Transfer))
    assert reports.refresh_flows() == db.session.query(Transfer).count()
    assert reports.flows_mark() == last_id
    assert reports.refresh_flows() == 0  # nothing new
    from_table = [
        _snapshot(reports.unit_rollup(w[u], p)) for u in ("street", "a") for p in (Q1, year)
    ]
    assert from_table == from_ledger
    reports.rebuild_flows()
    rows = db.session.query(ReportFlow).count()
    reports.rebuild_flows()
    assert db.session.query(ReportFlow).count() == rows
    db.session.query(ReportFlow).delete()
    db.session.query(ReportMark).delete()
    reports.refresh_flows(batch=5)  # the first five transfers only
    assert 0 < reports.flows_mark() < last_id
    half = [_snapshot(reports.unit_rollup(w[u], p)) for u in ("street", "a") for p in (Q1, year)]
    assert half == from_ledger


@pytest.mark.parametrize("by_id", [500, 1])
def test_the_ledgers_tail_maps_its_accounts_in_one_statement(app, clock, monkeypatch, by_id):
    """Past the mark, the tail's member accounts and their parts are one statement, named
    by id or, for a tail naming more accounts than ACCOUNTS_BY_ID, the subtree's whole;
    either way the figures are the derived table's."""
    from tests.statements import recorded_statements
    from timebank.reports.operations import ledger_sums

    monkeypatch.setattr(ledger_sums, "ACCOUNTS_BY_ID", by_id)
    w = quarter_world(clock)
    _award_bob_and_expire_alice(clock, w)
    clock.freeze(at("2026-04-02T02:00"))
    with recorded_statements() as statements:
        from_ledger = [_snapshot(reports.unit_rollup(w[u], Q1)) for u in ("street", "a")]
    accounts = [s for s in statements if s.startswith("WITH parts") and "FROM accounts" in s]
    assert len(accounts) == 2  # one a roll-up
    assert all(("accounts.id IN" in s) is (by_id == 500) for s in accounts)
    reports.refresh_flows()
    assert [_snapshot(reports.unit_rollup(w[u], Q1)) for u in ("street", "a")] == from_ledger


def test_the_flows_never_pass_a_transfer_that_may_still_be_on_its_way(app, clock):
    w = quarter_world(clock)
    clock.freeze(at("2026-03-31T16:03"))  # carol's 00:00 credit is three minutes old
    reports.refresh_flows()
    carol_credit = max(t.id for t in db.session.query(Transfer))
    assert reports.flows_mark() < carol_credit
    april = periods.parse("month", "2026-04")
    assert reports.unit_rollup(w["street"], april).hours.earned == 45  # read from the ledger
