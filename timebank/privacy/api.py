"""/api/v1/me/export: the caller's own data as one JSON file."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Response, current_app

from timebank.core import access
from timebank.core.access import requires
from timebank.core.clock import utcnow
from timebank.core.web import ApiBlueprint, ApiView
from timebank.privacy import operations as privacy

blp = ApiBlueprint("privacy_api", __name__, url_prefix="/api/v1", description="One's own data")


def export_response() -> Response:
    """The acting member's data as a JSON attachment named with today's local date."""
    member = access.acting_member()
    today = utcnow().astimezone(ZoneInfo(current_app.config["TIMEBANK_TIMEZONE"])).date()
    return Response(
        privacy.export_json(member),
        mimetype="application/json",
        headers={
            "Content-Disposition": (
                f'attachment; filename="{privacy.export_filename(member, today)}"'
            ),
            "Cache-Control": "no-store",
        },
    )


@blp.route("/me/export")
class MyData(ApiView):
    @requires("me.export")
    @blp.response(200, content_type="application/json", description="a JSON attachment")
    def get(self):
        """Everything kept about the caller (or, with X-On-Behalf-Of, their ward):
        profile, roles, units, guardianships, party record, sign-ups, attendance,
        check-ins, claims, hour logs, ledger lines with balances, redemptions, inbox
        messages, and the audit rows about them."""
        return export_response()
