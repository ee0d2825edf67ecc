"""A member hears that someone gave them hours: the ledger runs this after a donation
(``ledger.register_after_donation``), since it knows no people or inbox."""

from __future__ import annotations

from flask_babel import force_locale

from timebank.core.formats import duration
from timebank.extensions import db
from timebank.people.models import Member


def tell_donation_received(
    *, recipient_id: int, donor_id: int, minutes: int, memo: str | None, transfer_id: int
) -> None:
    """Write "王秀英 gave you 1 h" (and the donor's note) to the recipient's inbox, in
    their language, once per transfer; their channel sends it after the commit."""
    from timebank.inbox import operations as inbox

    recipient, donor = db.session.get(Member, recipient_id), db.session.get(Member, donor_id)
    if recipient is None or donor is None:
        return
    with force_locale(inbox.language_of(recipient)):
        hours = duration(minutes)
    inbox.notify(
        recipient, "donation_received", key=f"donation:{transfer_id}",
        params={"name": donor.name, "hours": hours, "note": memo or ""},
        link="/me/statement",
    )  # fmt: skip
