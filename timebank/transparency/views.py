"""Pages of the transparency log.

- ``/notice``: anyone, no login: each ledger's newest signed checkpoint, checked in the
  browser, and the communities' notice boards.
- ``/notice/<community>``: a community's notice board (公示): this month's and this year's
  totals beside the newest checkpoints and their QR code, checked in the browser.
- ``/notice/sign``: admins: how far each log reaches; sign a checkpoint now.
- ``/units/<street>/witness``: a street office's witness key (made in its browser) and its
  cosignatures.
"""

from __future__ import annotations

import re
from base64 import urlsafe_b64encode

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField
from wtforms.validators import DataRequired, Length

from timebank.core import access, signing
from timebank.core.names import names_of
from timebank.core.qr import qr_svg
from timebank.core.urls import public_url
from timebank.core.web import ActionForm, Form, page, redirect_to
from timebank.ledger.models import LEDGERS
from timebank.transparency import operations as transparency
from timebank.transparency.errors import NoCheckpoint

bp = Blueprint("transparency", __name__)
UNIT = "/units/<int(max=2147483647):unit_id>"

LOG_NAMES = {"HOURS": _l("Time bank hours"), "POINTS": _l("Points")}
#: a checkpoint pinned by a printed QR code: size.root (base64url, no padding), per ledger
_PINNED = re.compile(r"^(\d{1,18})\.([A-Za-z0-9_-]{43})$")
PIN_NAMES = {"HOURS": "h", "POINTS": "p"}


def _latest() -> dict:
    """ledger -> its newest published checkpoint, or None."""
    found = {}
    for ledger in LEDGERS:
        try:
            found[ledger] = transparency.latest_published(ledger)
        except NoCheckpoint:
            found[ledger] = None
    return found


def _checker_texts() -> dict:
    """What the browser's check says, in the reader's language (data attributes)."""
    return {
        "checking": _("Checking in this browser…"),
        "signed": _("Signed by this service's key %(key)s.", key="{key}"),
        "consistent": _(
            "Consistent with the checkpoint before (%(size)s entries): nothing signed before "
            "was rewritten.",
            size="{size}",
        ),
        "first": _("This is the first checkpoint; there is none before it to compare."),
        "pinned": _(
            "Consistent with the checkpoint on the printed notice (%(size)s entries).",
            size="{size}",
        ),  # fmt: skip
        "current": _(
            "The log as the service holds it now (%(size)s entries) still extends it.",
            size="{size}",
        ),  # fmt: skip
        "cosigned": _("Cosigned by %(name)s.", name="{name}"),
        "ok": _("It matches: the ledger was not rewritten."),
        "mismatch": _(
            "It does not match: the ledger's history was changed after it was signed. "
            "Tell the street office."
        ),
        "unsupported": _(
            "This browser cannot check Ed25519 signatures; open the page in a newer browser."
        ),
        "failed": _("The check could not be finished: %(error)s", error="{error}"),
        "entry_ok": _(
            "Entry %(entry)s is in the log, under the signed checkpoint of %(size)s entries.",
            entry="{entry}",
            size="{size}",
        ),  # fmt: skip
        "entry_bad": _(
            "The proof for entry %(entry)s does not match the signed checkpoint.", entry="{entry}"
        ),  # fmt: skip
    }


def _pin(value: str | None) -> dict | None:
    match = _PINNED.match(value or "")
    return {"size": int(match[1]), "root": match[2]} if match else None


def _notice_url(unit_id: int, latest: dict) -> str:
    """The notice board's address with the checkpoints it shows pinned (what the QR code
    holds), so a phone compares the log with what was printed, not only with the server."""
    pins = []
    for ledger, item in latest.items():
        if item is not None:
            root = urlsafe_b64encode(bytes.fromhex(item.checkpoint.root_hash)).decode().rstrip("=")
            pins.append(f"{PIN_NAMES[ledger]}={item.checkpoint.tree_size}.{root}")
    name, key = signing.key_name(), signing.public_key_bytes()
    pins.append(f"k={signing.key_id(name, key).hex()}")
    path = url_for("transparency.community_notice", unit_id=unit_id)
    return public_url(f"{path}?{'&'.join(pins)}")


@bp.route("/notice")
@page("transparency.view")
def notice_index():
    """The transparency log for everyone: newest checkpoints, checked in the browser."""
    return render_template(
        "transparency/index.html",
        latest=_latest(),
        communities=transparency.list_communities(),
        texts=_checker_texts(),
        LOG_NAMES=LOG_NAMES,
        pins={},
    )


@bp.route("/notice/<int(max=2147483647):unit_id>")
@page("transparency.view")
def community_notice(unit_id: int):
    """A community's notice board (公示): totals and the checked checkpoints, no names."""
    community = transparency.get_community(unit_id)
    latest = _latest()
    url = _notice_url(unit_id, latest)
    pins = {ledger: _pin(request.args.get(PIN_NAMES[ledger])) for ledger in LEDGERS}
    return render_template(
        "transparency/community.html",
        community=community,
        totals=transparency.community_totals(unit_id),
        latest=latest,
        qr=qr_svg(url),
        url=url,
        pins=pins,
        pinned_key=(request.args.get("k") or "")[:8],
        texts=_checker_texts(),
        LOG_NAMES=LOG_NAMES,
    )


@bp.route("/notice/sign", methods=["GET", "POST"])
@page("transparency.sign")
def sign_page():
    """Admins: each log's reach and newest checkpoint; the button signs one now."""
    if request.method == "POST" and ActionForm().validate_on_submit():
        signed = transparency.sign_now(actor_id=access.current_actor().id, via="page")
        if signed:
            flash(_("%(count)s checkpoints were signed.", count=len(signed)), "success")
        else:
            flash(_("Nothing new to sign: the logs have not grown."), "success")
        return redirect(url_for("transparency.sign_page"))
    heads = {ledger: transparency.read_head(ledger) for ledger in LEDGERS}
    return render_template(
        "transparency/sign.html", heads=heads, latest=_latest(), form=ActionForm(),
        LOG_NAMES=LOG_NAMES,
    )  # fmt: skip


# ---------------------------------------------------------------- the street office


class WitnessKeyForm(Form):
    public_key = HiddenField(validators=[DataRequired(), Length(max=60)])


class CosignForm(Form):
    checkpoint_id = IntegerField(validators=[DataRequired()])
    signature = HiddenField(validators=[DataRequired(), Length(max=400)])


def _street(unit_id: int):
    return access.target_of("unit", unit_id)


@bp.route(f"{UNIT}/witness", methods=["GET"])
@page("transparency.witness", target=_street)
def witness(unit_id: int):
    """The street office's witness key and the checkpoints it may cosign."""
    keys = transparency.witness_keys(unit_id)
    recent = [
        item
        for ledger in LEDGERS
        for item in transparency.published(transparency.list_checkpoints(ledger, limit=5))
    ]
    return render_template(
        "transparency/witness.html",
        unit_id=unit_id,
        unit_name=names_of("unit", [unit_id]).get(unit_id, ""),
        keys=keys,
        recent=recent,
        key_form=WitnessKeyForm(),
        cosign_form=CosignForm(),
        texts=_checker_texts(),
        LOG_NAMES=LOG_NAMES,
    )


@bp.route(f"{UNIT}/witness/key", methods=["POST"])
@page(
    "transparency.witness", target=_street, on_error=redirect_to("transparency.witness", "unit_id")
)
def register_key(unit_id: int):
    form = WitnessKeyForm()
    if form.validate_on_submit():
        transparency.register_witness_key(
            unit_id, form.public_key.data, actor_id=access.current_actor().id
        )
        flash(_("This browser now holds the street office's witness key."), "success")
    else:
        flash(_("The key was not made; this browser may not support Ed25519."), "error")
    return redirect(url_for("transparency.witness", unit_id=unit_id))


@bp.route(f"{UNIT}/witness/cosign", methods=["POST"])
@page(
    "transparency.witness", target=_street, on_error=redirect_to("transparency.witness", "unit_id")
)
def cosign(unit_id: int):
    form = CosignForm()
    if form.validate_on_submit():
        transparency.add_cosignature(
            form.checkpoint_id.data, unit_id, form.signature.data,
            actor_id=access.current_actor().id,
        )  # fmt: skip
        flash(_("The checkpoint was cosigned by the street office."), "success")
    else:
        flash(_("The cosignature was not made in this browser."), "error")
    return redirect(url_for("transparency.witness", unit_id=unit_id))
