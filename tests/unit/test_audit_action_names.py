"""Every action the code puts on the audit trail has a name in words on /admin/audit."""

from __future__ import annotations

import re
from pathlib import Path

from timebank.audit.views import ACTION_NAMES

PACKAGE = Path(__file__).resolve().parents[2] / "timebank"
#: record_audit("unit.create", ...) and record_audit(\n "unit.create", ...)
LITERAL = re.compile(r"record_audit\(\s*\"([a-z_]+\.[a-z_]+)\"")


def test_every_recorded_action_has_a_name():
    recorded = {
        action
        for path in PACKAGE.rglob("*.py")
        for action in LITERAL.findall(path.read_text(encoding="utf-8"))
    }
    assert {"unit.create", "ledger.verify", "statement.pay"} <= recorded
    assert not recorded - ACTION_NAMES.keys(), sorted(recorded - ACTION_NAMES.keys())
