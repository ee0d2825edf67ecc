"""/api/v1/audit: admins search the audit trail, and export it as CSV."""

from __future__ import annotations

from flask import Response

from timebank.audit import operations as audit
from timebank.audit import words
from timebank.audit.schemas import AuditArgs, AuditPageSchema
from timebank.core.access import requires
from timebank.core.clock import utcnow
from timebank.core.web import ApiBlueprint, ApiView

blp = ApiBlueprint("audit_api", __name__, url_prefix="/api/v1", description="The audit trail")


@blp.route("/audit")
class AuditSearch(ApiView):
    @requires("audit.view")
    @blp.arguments(AuditArgs, location="query")
    @blp.response(200, AuditPageSchema)
    def get(self, args):
        """Audit events, newest first: who acted, for whom, on what, before and after.

        A start date after the end date is 422."""
        page, per_page = args.pop("page"), args.pop("per_page")
        found = audit.search_audit(audit.filters_from(args), page=page, per_page=per_page)
        items = [audit.event_as_dict(event, found.names) for event in found.items]
        return {"items": items, "page": page, "per_page": per_page, "total": found.total}


def csv_response(args: dict, *, in_words: bool = False) -> Response:
    """The CSV download of the events ``args`` filter (shared with the page's button).
    The API's header row is the stable column codes; the page's (``in_words``) says
    them in the reader's language."""
    args = {key: value for key, value in args.items() if key not in ("page", "per_page")}
    header = words.csv_header(audit.CSV_COLUMNS) if in_words else None
    pieces = audit.audit_csv(audit.filters_from(args), header)
    today = utcnow().astimezone(audit.local_zone()).date()
    return Response(
        pieces,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{audit.csv_filename(today)}"',
            "Cache-Control": "no-store",
        },
    )


@blp.route("/audit.csv")
class AuditExport(ApiView):
    @requires("audit.view")
    @blp.arguments(AuditArgs, location="query")
    @blp.response(200, content_type="text/csv", description="UTF-8 with a BOM, one row an event")
    def get(self, args):
        """The same search as CSV, streamed (every matching row, not one page)."""
        return csv_response(args)
