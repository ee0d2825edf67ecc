"""Words that pages translate from data (role, status and kind names), marked for extraction."""

from flask_babel import lazy_gettext as _l

WORDS = (
    _l("volunteer"),
    _l("organizer"),
    _l("merchant_staff"),
    _l("admin"),
    _l("unverified"),
    _l("pending"),
    _l("active"),
    _l("rejected"),
    _l("suspended"),
    _l("street"),
    _l("community"),
    _l("grid"),
    _l("building"),
    _l("other"),
    _l("company"),
    _l("school"),
    _l("government"),
    _l("hospital"),
    _l("social_org"),
)
