"""Headers and cookies every response carries (pages and API)."""

from timebank import create_app
from timebank.core.signing import generate_seed


def test_pages_and_api_send_the_security_headers(client, district, make_member, token_for):
    page = client.get("/login")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"
    member = make_member(district["a"])
    api = client.get("/api/v1/me", headers=token_for(member))
    assert api.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in api.headers  # served over plain http here


def test_a_token_is_never_cached_and_the_session_cookie_is_same_site(client, district, make_member):
    member = make_member(district["a"])
    token = client.post("/api/v1/auth/token", json={"phone": member.phone, "password": "x"})
    assert token.status_code == 401
    from tests import factories

    issued = client.post(
        "/api/v1/auth/token", json={"phone": member.phone, "password": factories.PASSWORD}
    )
    assert issued.status_code == 201 and issued.headers["Cache-Control"] == "no-store"
    login = client.post("/login", data={"phone": member.phone, "password": factories.PASSWORD})
    cookie = login.headers["Set-Cookie"]
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie


def test_production_cookies_are_secure_and_https_turns_on_hsts(database_url, monkeypatch):
    monkeypatch.setenv("TIMEBANK_ENV", "production")
    monkeypatch.setenv("TIMEBANK_SECRET_KEY", "a-real-secret-for-this-test-only-0123456789")
    monkeypatch.setenv("TIMEBANK_SIGNING_KEY", generate_seed())
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "TIMEBANK_BASE_URL": "https://tb.example.cn"}
    )
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    response = app.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
