"""core/codes.py: rotating signed codes, with an injected clock and no domain (no database)."""

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask

from timebank.core import codes

#: a fixed clock: 2026-03-14 09:00:00 UTC, exactly on a 30-second step boundary
T0 = datetime(2026, 3, 14, 9, 0, tzinfo=UTC)
assert T0.timestamp() % 30 == 0

# the purposes activities declares, as they are on the wire (declaring again returns them)
KIOSK = codes.declare_purpose("kiosk", short_label="short")
BADGE = codes.declare_purpose("badge", prefix="m", short_label="badge_short")
# a purpose to come (merchants' redemption codes), made directly so the test does not
# claim its name, prefix or label in the deployment's registry
REDEEM = codes.Purpose("redeem", prefix="r", short_label="redeem_short")


@pytest.fixture(autouse=True)
def secret():
    """A bare Flask app: the codes need nothing but its secret key."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "codes-test-secret"
    with app.app_context():
        yield app


def verify(token: str, purpose: codes.Purpose, at: datetime) -> codes.SignedCode:
    """What a caller does: prove the signature, then the step window."""
    signed = codes.read_token(token, purpose)
    codes.check_step(purpose, signed.step, at)
    return signed


# ---------------------------------------------------------------- steps


def test_step_boundaries():
    step = codes.step_of(T0)
    token = codes.make_token(KIOSK, 7, step)
    # the whole current step
    assert verify(token, KIOSK, T0).step == step
    assert verify(token, KIOSK, T0 + timedelta(seconds=29.999)).step == step
    # the previous step: accepted for the next 30 seconds
    assert verify(token, KIOSK, T0 + timedelta(seconds=30)).step == step
    assert verify(token, KIOSK, T0 + timedelta(seconds=59.999)).step == step
    # two steps old: expired
    with pytest.raises(codes.CodeExpired):
        verify(token, KIOSK, T0 + timedelta(seconds=60))
    # a future step: not valid (the server never shows one)
    future = codes.make_token(KIOSK, 7, step + 1)
    with pytest.raises(codes.CodeNotYetValid):
        verify(future, KIOSK, T0 + timedelta(seconds=29))
    assert verify(future, KIOSK, T0 + timedelta(seconds=30)).step == step + 1


def test_a_purpose_may_have_longer_steps():
    slow = codes.Purpose("certificate", prefix="c", step_seconds=300)
    step = codes.step_of(T0, slow.step_seconds)
    assert step == int(T0.timestamp()) // 300
    token = codes.make_token(slow, 3, step)
    assert verify(token, slow, T0 + timedelta(seconds=599)).step == step
    with pytest.raises(codes.CodeExpired):
        verify(token, slow, T0 + timedelta(seconds=600))
    assert codes.seconds_left(slow, step, T0 + timedelta(seconds=100)) == pytest.approx(200)


# ---------------------------------------------------------------- signatures


def test_token_is_compact_url_safe_and_names_purpose_subject_step():
    token = codes.make_token(KIOSK, 2_147_483_647, codes.step_of(T0))
    assert len(token) < 40
    assert set(token) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")
    assert codes.read_token(token, KIOSK) == codes.SignedCode(
        KIOSK, 2_147_483_647, codes.step_of(T0)
    )
    assert codes.make_token(BADGE, 5, 9).startswith("m5.9.")


def test_forged_and_garbled_tokens():
    step = codes.step_of(T0)
    token = codes.make_token(KIOSK, 7, step)
    forged = f"8.{step}.{token.split('.')[2]}"
    for bad in (forged, token[:-1] + ("A" if token[-1] != "A" else "B"), "", "hello", "1.2.3"):
        with pytest.raises(codes.CodeInvalid):
            codes.read_token(bad, KIOSK)


def test_codes_depend_on_the_secret_key(secret):
    token = codes.make_token(KIOSK, 7, 1000)
    short = codes.make_short_code(KIOSK, 7, 1000)
    secret.config["SECRET_KEY"] = "another-secret"
    assert codes.make_token(KIOSK, 7, 1000) != token
    with pytest.raises(codes.CodeInvalid):
        codes.read_token(token, KIOSK)
    assert codes.make_short_code(KIOSK, 7, 1000) != short


# ---------------------------------------------------------------- short codes


def test_short_code_for_typing():
    step = codes.step_of(T0)
    short = codes.make_short_code(KIOSK, 7, step)
    assert short.startswith("7-") and len(short.split("-")[1]) == 6
    assert codes.is_short_code(short) and not codes.is_short_code(codes.make_token(KIOSK, 7, step))
    # six digits carry no step: the current and the previous step are tried
    assert codes.read_short_code(KIOSK, short, T0) == codes.SignedCode(KIOSK, 7, step)
    assert codes.read_short_code(KIOSK, short, T0 + timedelta(seconds=45)).step == step
    with pytest.raises(codes.CodeInvalid):
        codes.read_short_code(KIOSK, short, T0 + timedelta(seconds=60))
    with pytest.raises(codes.CodeInvalid):
        codes.read_short_code(KIOSK, short, T0 - timedelta(seconds=1))
    wrong = f"7-{(int(short.split('-')[1]) + 1) % 1_000_000:06d}"
    for bad in (wrong, "8-" + short.split("-")[1], "7-12345", "hello"):
        with pytest.raises(codes.CodeInvalid):
            codes.read_short_code(KIOSK, bad, T0)


def test_a_purpose_without_short_codes_makes_none():
    plain = codes.Purpose("plain", prefix="p")  # made directly: not in the registry
    with pytest.raises(ValueError):
        codes.make_short_code(plain, 7, 1)
    with pytest.raises(codes.CodeInvalid):
        codes.read_short_code(plain, "7-123456", T0)


def test_a_badge_short_code_is_no_kiosk_short_code():
    """The badge's typed code (issue 21) has the kiosk's shape but not its signature."""
    badge_short = codes.make_short_code(BADGE, 7, codes.step_of(T0))
    assert codes.read_short_code(BADGE, badge_short, T0).subject == 7
    with pytest.raises(codes.CodeInvalid):
        codes.read_short_code(KIOSK, badge_short, T0)


# ---------------------------------------------------------------- purposes


def test_a_code_made_for_one_purpose_never_verifies_for_another():
    step = codes.step_of(T0)
    made = {p: codes.make_token(p, 7, step) for p in (KIOSK, BADGE, REDEEM)}
    for purpose, token in made.items():
        assert codes.read_token(token, purpose).purpose == purpose
        for other in {KIOSK, BADGE, REDEEM} - {purpose}:
            with pytest.raises(codes.CodeInvalid):
                codes.read_token(token, other)
    # the purpose is signed, not only named by the prefix: changing the prefix fails too
    signature_part = made[REDEEM].removeprefix("r")
    for relabelled, purpose in ((signature_part, KIOSK), ("m" + signature_part, BADGE)):
        with pytest.raises(codes.CodeInvalid):
            codes.read_token(relabelled, purpose)
    with pytest.raises(codes.CodeInvalid):
        codes.read_token("r" + made[KIOSK], REDEEM)
    # short codes too
    kiosk_short = codes.make_short_code(KIOSK, 7, step)
    assert kiosk_short != codes.make_short_code(REDEEM, 7, step)
    with pytest.raises(codes.CodeInvalid):
        codes.read_short_code(REDEEM, kiosk_short, T0)
    # a caller accepting several purposes learns which one a code is for
    for purpose, token in made.items():
        assert codes.read_token(token, KIOSK, BADGE, REDEEM).purpose == purpose


def test_purposes_are_declared_once():
    assert codes.declare_purpose("kiosk", short_label="short") is KIOSK
    collisions = [
        {"name": "kiosk", "prefix": "k"},  # another kiosk, signing the same words
        {"name": "kiosk2", "prefix": "m"},  # the badge's prefix
        {"name": "short", "prefix": "q"},  # signs what kiosk short codes sign
        {"name": "kiosk3", "prefix": "q", "short_label": "badge"},
        {"name": "same", "prefix": "q", "short_label": "same"},
        {"name": "Not:a_word", "prefix": "q"},
        {"name": "twoletters", "prefix": "mm"},
        {"name": "zero", "prefix": "z", "step_seconds": 0},
    ]
    for declaration in collisions:
        with pytest.raises(ValueError):
            codes.declare_purpose(**declaration)


def test_core_imports_no_domain_module():
    domains = ("activities", "people", "units", "ledger", "projects", "merchants", "reports")
    core = Path(codes.__file__).parent
    for path in core.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                assert not name.startswith(tuple(f"timebank.{d}" for d in domains)), (path, name)
