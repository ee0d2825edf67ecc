"""Pages: /me/export, the download button on one's home page."""

from __future__ import annotations

from flask import Blueprint

from timebank.core.web import page
from timebank.privacy.api import export_response

bp = Blueprint("privacy", __name__)


@bp.route("/me/export")
@page("me.export")
def my_data():
    """Download everything kept about oneself (or one's ward, with ?for=), as JSON."""
    return export_response()
