"""timebank: a community time bank."""

from __future__ import annotations

import functools
import inspect
import logging

from babel import Locale
from flask import Flask, g, request, session
from flask_login import current_user

from timebank.config import PROJECT_ROOT, load_config
from timebank.core.web import CookieSessions, register_error_handlers, uses_bearer_token
from timebank.extensions import api, babel, csrf, db, limiter, login_manager, migrate

LOCALES = ["zh_CN", "en"]
#: what a request keeps on ``g``: Flask-Babel's and Flask-Login's caches, and who is calling
REQUEST_STATE = (
    "_flask_babel", "_login_user", "actor", "acting_member", "access_action",
    "access_checked", "access_passed", "form_error",
)  # fmt: skip
_REQUEST_STATE = frozenset(REQUEST_STATE)


def select_locale() -> Locale:
    """A page session's choice, else the logged-in member's, else the browser's. A
    bearer-token API request has neither session nor page login: the client's
    Accept-Language says. Returned as a parsed Locale, made once per name: parsing one
    cost every page about 6% of its instructions."""
    if not uses_bearer_token(request):
        chosen = session.get("locale")
        if chosen in LOCALES:
            return _parsed(chosen)
        if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
            return _parsed(current_user.locale)
    from flask import current_app

    return _parsed(
        request.accept_languages.best_match(LOCALES) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


@functools.cache
def _parsed(name: str) -> Locale:
    return Locale.parse(name)


def page_translations():
    """flask_babel.get_translations(), kept for the locale in force: a page asks for it
    once per string it translates, and Flask-Babel works out the domain, the locale and
    its name every time (8% of the volunteer's home). ``force_locale`` (an SMS in the
    recipient's language) puts another Locale object in force, so it is asked again."""
    from flask import g
    from flask_babel import get_translations

    context = g.get("_flask_babel")  # Flask-Babel's own state for this request
    locale = getattr(context, "babel_locale", None)
    if locale is None:
        return get_translations()  # the request's first: it chooses the locale
    known = getattr(context, "timebank_translations", None)
    if known is None or known[0] is not locale:
        known = context.timebank_translations = (locale, get_translations())
    return known[1]


def _install_page_gettext(app: Flask) -> None:
    """Templates translate through ``page_translations`` (Flask-Babel's callables, kept)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: page_translations().ugettext(s),
        ngettext=lambda s, p, n: page_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: page_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: page_translations().unpgettext(c, s, p, n),
    )


class TimebankFlask(Flask):
    """Flask, asking once per function whether it is a coroutine function: Flask asks
    ``inspect`` again for every hook and view of every request (about 3% of /readyz)."""

    _is_async: dict = {}

    def ensure_sync(self, func):
        code = getattr(getattr(func, "__func__", func), "__code__", None)
        if code is None:  # a partial, a callable object: as Flask does
            return super().ensure_sync(func)
        is_async = self._is_async.get(code)
        if is_async is None:
            is_async = self._is_async[code] = inspect.iscoroutinefunction(func)
        return self.async_to_sync(func) if is_async else func


def create_app(config: dict | None = None) -> Flask:
    """Build the app from TIMEBANK_* environment variables, then ``config`` overrides."""
    app = TimebankFlask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    app.config.update(load_config(config))
    app.session_interface = CookieSessions()
    if app.config["TIMEBANK_PROXY_FIX"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TIMEBANK_PROXY_FIX"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops)
    from timebank.core.hygiene import AsciiIntegerConverter

    app.url_map.converters["int"] = AsciiIntegerConverter
    if not app.config["TESTING"]:
        from timebank.core.logs import configure_logging

        configure_logging(app.config["TIMEBANK_LOG_FORMAT"])
    app.logger.setLevel(logging.INFO)
    _init_sqlite_directory(app)

    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True, compare_type=True
    )
    babel.init_app(
        app, locale_selector=select_locale, default_translation_directories="translations"
    )
    _install_page_gettext(app)
    login_manager.init_app(app)
    _remember_cookie_only_with_a_session(app)
    login_manager.login_view = "people.login"
    login_manager.login_message = None
    _csrf_for_writes(app)
    api.init_app(app)
    # The limiter only holds the throttles' storage (core/throttle.py): no route has a limit
    # of its own, so its per-request hooks would cost every request for nothing. It adds
    # them only for an app it has not seen yet.
    import timebank.core.throttle  # noqa: F401 (registers the timebank-memory:// storage)

    app.extensions.setdefault("limiter", set()).add(limiter)
    limiter.init_app(app)

    _register_models()
    register_error_handlers(app)
    _register_blueprints(app)
    _register_template_helpers(app)

    _init_observability(app)

    from timebank.cli import register_cli

    register_cli(app)
    return app


def _remember_cookie_only_with_a_session(app: Flask) -> None:
    """Flask-Login's after-request hook looks into the session on every request (which
    also marks it read, so every answer said "Vary: Cookie"); an empty session has no
    remember-me cookie to set or clear."""
    from flask.globals import request_ctx

    update = login_manager._update_remember_cookie

    def _update_remember_cookie(response):
        # _session: the session as it is (the property would mark it read)
        return update(response) if request_ctx._session else response

    hooks = app.after_request_funcs[None]
    hooks[hooks.index(update)] = _update_remember_cookie


def _init_observability(app: Flask) -> None:
    """The request id on every request (and its answer); metrics when asked for."""
    from timebank.core import health
    from timebank.core.request_id import RequestIdMiddleware
    from timebank.scheduling import operations as scheduling

    health.register_leader_check(scheduling.leader_renewed_at)
    observer = None
    if app.config["TIMEBANK_METRICS"]:
        from timebank.core import metrics

        metrics.init_app(app)
        observer = metrics.RequestObserver()
    app.wsgi_app = RequestIdMiddleware(app.wsgi_app, observer)


def _init_sqlite_directory(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///") and ":memory:" not in uri:
        from pathlib import Path

        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def _register_models() -> None:
    # Import every module's models so metadata (and migrations) see all tables.
    import timebank.activities.models  # noqa: F401
    import timebank.core.audit  # noqa: F401
    import timebank.inbox.models  # noqa: F401
    import timebank.ledger.models  # noqa: F401
    import timebank.merchants.models  # noqa: F401
    import timebank.people.models  # noqa: F401
    import timebank.projects.models  # noqa: F401
    import timebank.reports.models  # noqa: F401
    import timebank.scheduling.models  # noqa: F401
    import timebank.transparency.models  # noqa: F401
    import timebank.units.models  # noqa: F401


def _csrf_for_writes(app: Flask) -> None:
    """Flask-WTF's CSRF check, with the method asked first. Its own hook asks whether the
    view is exempt before whether the method needs a token at all, so every GET paid for
    the exemption lookup (about 64,000 instructions of a /readyz). Same checks, same
    exemptions (``csrf.exempt``); the hook keeps its name for bench/instructions.py."""
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # Flask-WTF's own hook then returns at once
    csrf.init_app(app)

    @app.before_request
    def csrf_protect():
        if app.config["WTF_CSRF_ENABLED"] and request.method in app.config["WTF_CSRF_METHODS"]:
            csrf.protect(apply_exemptions=True)


def _register_blueprints(app: Flask) -> None:
    from timebank.activities import api as activities_api
    from timebank.activities import views as activities_views
    from timebank.audit import api as audit_api
    from timebank.audit import views as audit_views
    from timebank.core import health, signing
    from timebank.inbox import api as inbox_api
    from timebank.inbox import views as inbox_views
    from timebank.ledger import api as ledger_api
    from timebank.ledger import views as ledger_views
    from timebank.merchants import api as merchants_api
    from timebank.merchants import organizer_views as merchants_organizer_views
    from timebank.merchants import views as merchants_views
    from timebank.people import api as people_api
    from timebank.people import views as people_views
    from timebank.people.auth import authenticate_api_request
    from timebank.privacy import api as privacy_api
    from timebank.privacy import views as privacy_views
    from timebank.projects import api as projects_api
    from timebank.projects import views as projects_views
    from timebank.reports import api as reports_api
    from timebank.reports import views as reports_views
    from timebank.scheduling import views as scheduling_views
    from timebank.transparency import api as transparency_api
    from timebank.transparency import views as transparency_views
    from timebank.units import api as units_api
    from timebank.units import views as units_views

    _register_access()
    apis = (
        ledger_api.blp, units_api.blp, people_api.blp, activities_api.blp, projects_api.blp,
        inbox_api.blp, merchants_api.blp, audit_api.blp, privacy_api.blp, reports_api.blp,
        transparency_api.blp, transparency_api.public,
    )  # fmt: skip
    for blueprint in apis:
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)  # bearer tokens, not cookies: no CSRF to forge
    app.register_blueprint(people_views.bp)
    app.register_blueprint(units_views.bp)
    app.register_blueprint(ledger_views.bp)
    app.register_blueprint(activities_views.bp)
    app.register_blueprint(projects_views.bp)
    app.register_blueprint(inbox_views.bp)
    app.register_blueprint(scheduling_views.bp)
    app.register_blueprint(merchants_views.bp)
    app.register_blueprint(merchants_organizer_views.bp)
    app.register_blueprint(audit_views.bp)
    app.register_blueprint(privacy_views.bp)
    app.register_blueprint(reports_views.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(signing.bp)
    app.register_blueprint(transparency_views.bp)

    @app.before_request
    def _api_auth():
        # An unknown path or method answers 404/405 whoever asks: routing comes first.
        if request.path.startswith("/api/") and request.routing_exception is None:
            authenticate_api_request()

    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearer": []}]


def _register_access() -> None:
    """What core knows of the domain only through registries: who is calling and what their
    roles cover, the targets of checks, names and lookups, and the ledger's extra checks."""
    from timebank.activities import operations as activities
    from timebank.core import access
    from timebank.core.names import register_lookup, register_names
    from timebank.core.pending import register_pending
    from timebank.ledger import operations as ledger
    from timebank.merchants import operations as merchants
    from timebank.people import operations as people
    from timebank.people.auth import PeopleAccess
    from timebank.projects import operations as projects
    from timebank.reports import operations as reports
    from timebank.transparency import operations as transparency
    from timebank.units import operations as units

    access.install(PeopleAccess())
    access.register_target("unit", units.unit_target)
    access.register_target("member", people.member_target)
    access.register_target("merchant", merchants.merchant_target)
    register_names("member", people.member_names)
    register_names("unit", units.unit_names)
    register_names("attendance", activities.attendance_titles)
    register_names("hour_log", projects.hour_log_titles)
    register_names("redemption_shop", merchants.redemption_shops)
    register_names("redemption_offer", merchants.redemption_offers)
    register_lookup("member_by_phone", people.active_member_id_by_phone)
    register_lookup("line_of_unit", units.line_of)
    register_pending("attendance", activities.pending_attendance)
    register_pending("hour_log", projects.my_hour_logs_waiting)
    ledger.register_check("transparency", transparency.ledger_check)
    ledger.register_after_donation(people.tell_donation_received)
    transparency.register_totals(reports.notice_totals)
    transparency.register_after_signing(reports.seal_waiting)


def _register_template_helpers(app: Flask) -> None:
    from flask_babel import get_locale

    from timebank.core import access, formats, privacy
    from timebank.core.pending import pending_minutes

    formats.register(app)
    privacy.register(app)
    app.add_template_global(pending_minutes, "pending_total")

    def acting_args() -> dict:
        """``{"for": ward id}`` while a guardian acts for a ward: links keep acting."""
        actor, acting = g.get("actor"), access.acting_member()
        if actor is not None and acting is not None and acting.id != actor.id:
            return {"for": acting.id}
        return {}

    @app.context_processor
    def _inject():
        locale = str(get_locale() or "")
        return {
            "current_locale": locale,
            "LOCALES": LOCALES,
            "acting_args": acting_args,
            # a label's colon: full-width in Chinese (标签：值), "Label: value" in English
            "colon": "：" if locale.startswith("zh") else ": ",
        }

    @app.before_request
    def _fresh_request_state():
        # Flask-Babel and Flask-Login cache on g, which lives as long as the app
        # context; when one outlives a request (tests), the cache must not leak.
        state = vars(g._get_current_object())
        for name in state.keys() & _REQUEST_STATE:
            del state[name]
