"""What every browser journey shares: a 390×844 phone in one language, logging in, and the
check that a Chinese page shows no English left untranslated.

The check reads the catalog's msgids (the English the templates and code say) and, on
every page whose ``<html lang>`` is Chinese, looks for any of them in the visible text
(``innerText`` of the body, line by line), the page title and the ``placeholder``,
``aria-label`` and ``title`` attributes. The page hands its text over at every load, and once more
when a test calls ``assert_seen_clean`` at the end."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from babel.messages.pofile import read_po
from playwright.sync_api import Error as PlaywrightError

from tests import factories
from timebank.extensions import db

CATALOG = (
    Path(__file__).resolve().parents[2] / "timebank/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
)
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True}
LOCALES = {"zh": "zh-CN", "en": "en-US"}
# Skipped by rule: msgids whose Chinese is the same text (nothing to tell apart), and those
# with fewer than two Latin letters besides placeholders ("s" and "%(seconds)s s" for
# seconds, "%(hours)s h"): a lone letter next to a number is not telling. Matching is
# case-sensitive on whole words, so the brand "Time bank" does not match "timebank" in the
# <title>, nor "In" the word "Inbox". Any msgid that must be shown in English on a Chinese
# page goes here, with the reason; none has had to so far.
IGNORED: dict[str, str] = {}
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sdif]|%[sdif]|\{[a-z_0-9]*\}")
TEXT_JS = """() => {
  const seen = [document.body ? document.body.innerText : '', document.title];
  for (const el of document.querySelectorAll('[placeholder], [aria-label], [title]')) {
    for (const name of ['placeholder', 'aria-label', 'title']) {
      const value = el.getAttribute(name);
      if (value) seen.push(value);
    }
  }
  return {url: location.href, lang: document.documentElement.lang, texts: seen};
}"""
# Runs in every page the context opens, outside the page's CSP (Playwright injects it):
# at the load event the page itself hands its text to the test, so no page is skipped
# however fast the test moves on.
ON_LOAD_JS = "window.addEventListener('load', () => window.timebankSeen((" + TEXT_JS + ")()));"


def english_msgids(catalog_path: Path = CATALOG) -> list[str]:
    """The catalog's English that must not show on a Chinese page."""
    with catalog_path.open("rb") as handle:
        catalog = read_po(handle)
    found = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for msgid in ids:
            if msgid in strings or msgid in IGNORED:
                continue  # the same in both languages, or ignored for its reason above
            if len(re.findall(r"[A-Za-z]", PLACEHOLDER.sub("", msgid))) < 2:
                continue  # a placeholder, a number or a one-letter unit: not telling
            found.append(msgid)
    return found


def _pattern_of(msgid: str) -> str:
    """A msgid as a regular expression: its placeholders match any text, and a leading or
    trailing word must stand as a word ("In" does not match inside "Inbox", nor "No"
    inside a hash or a code such as "…5Fa-No")."""
    pieces = PLACEHOLDER.split(msgid)
    while pieces and not pieces[0].strip():
        pieces.pop(0)
    while pieces and not pieces[-1].strip():
        pieces.pop()
    literal = r".+?".join(r"\s+".join(map(re.escape, p.split())) for p in pieces)
    head = r"(?<![A-Za-z0-9_/=-])" if re.match(r"\s*[A-Za-z]", pieces[0]) else ""
    tail = r"(?![A-Za-z0-9_/-])" if re.search(r"[A-Za-z]\s*$", pieces[-1]) else ""
    return head + literal + tail


LETTERS = re.compile(r"[A-Za-z]+")


@functools.cache
def english_pattern(catalog_path: Path = CATALOG) -> tuple[re.Pattern, list[str], set, list]:
    """The msgids as one pattern (the longest first), and what a line must hold for the
    pattern to have a chance: the first run of letters of a msgid's first literal piece
    begins a run of letters in the line (the piece begins the match, and a letter never
    precedes that run in it), or, where a placeholder comes first, stands anywhere in it."""
    ids = sorted(set(english_msgids(catalog_path)), key=len, reverse=True)
    starts, anywhere = set(), []
    for msgid in ids:
        literal = next(p for p in PLACEHOLDER.split(msgid) if p.strip())
        letters = LETTERS.search(literal)
        if letters is None:
            anywhere.append(LETTERS.search(PLACEHOLDER.sub(" ", msgid)).group())
        else:
            starts.add(letters.group())
    pattern = re.compile("|".join(f"(?P<m{i}>{_pattern_of(m)})" for i, m in enumerate(ids)))
    return pattern, ids, starts, anywhere


def _may_hold_english(line: str, starts: set, anywhere: list) -> bool:
    """A cheap test that rules out most lines of a Chinese page: the one pattern tries
    every msgid at every character, about a millisecond a character."""
    for run in LETTERS.findall(line):
        if any(run[:n] in starts for n in range(1, len(run) + 1)):
            return True
    return any(word in line for word in anywhere)


def english_in(texts: list[str], catalog_path: Path = CATALOG) -> list[tuple[str, str]]:
    """Every (line, msgid) where a line of ``texts`` equals or contains an English msgid."""
    pattern, ids, starts, anywhere = english_pattern(catalog_path)
    leaks = []
    for text in texts:
        for line in (text or "").splitlines():
            if not _may_hold_english(line, starts, anywhere):
                continue
            for match in pattern.finditer(line):
                leaks.append((line.strip(), ids[int(match.lastgroup[1:])]))
    return leaks


def note_chinese(page, seen: dict) -> None:
    """If the page seen is Chinese, note any English from the catalog on it."""
    if not seen["lang"].startswith("zh"):
        return
    page.chinese_pages_checked.append(seen["url"])
    page.english_seen.extend((seen["url"], *leak) for leak in english_in(seen["texts"]))


def phone(browser, language: str, **extra):
    """A phone-sized page in ``language`` ("zh" or "en") that records any
    Content-Security-Policy violation and, on each Chinese page it loads, any English."""
    page = browser.new_context(locale=LOCALES.get(language, language), **PHONE, **extra).new_page()
    page.language = language
    page.csp_violations = []
    page.english_seen = []
    page.chinese_pages_checked = []
    page.on(
        "console",
        lambda m: (
            page.csp_violations.append(m.text) if "Content Security Policy" in m.text else None
        ),
    )
    page.expose_function("timebankSeen", lambda seen: note_chinese(page, seen))
    page.add_init_script(ON_LOAD_JS)
    return page


def evaluate_steady(page, script: str, tries: int = 3):
    """``page.evaluate(script)``. A page that reloads itself (a rotating code) may be
    between two loads: then wait for the new one and evaluate there."""
    for attempt in range(tries):
        try:
            return page.evaluate(script)
        except PlaywrightError as error:
            if "context was destroyed" not in str(error) or attempt == tries - 1:
                raise
            page.wait_for_load_state("load")
    raise AssertionError("unreachable")


def assert_seen_clean(*pages) -> None:
    """No page broke the CSP, and no Chinese page showed English (the current page is
    checked once more: text written by scripts after the load counts too)."""
    for page in pages:
        note_chinese(page, evaluate_steady(page, TEXT_JS))
        if page.language == "zh":  # the check ran on each page load, not only now
            assert len(set(page.chinese_pages_checked)) >= 2, page.chinese_pages_checked
        assert page.csp_violations == []
        assert page.english_seen == [], "English on a Chinese page: " + repr(page.english_seen)


def log_in(page, base, member, password: str = factories.PASSWORD):
    number = member.phone
    db.session.rollback()  # SQLite: reading it must not keep the write lock from the server
    page.goto(f"{base}/login")
    page.fill("input[name=phone]", number)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")


def inbox_notice(browser, base, member, language: str, kind: str):
    """``member`` logs in on a phone in ``language`` and opens the inbox; returns the page
    and the notification of ``kind`` on it."""
    page = phone(browser, language)
    log_in(page, base, member)
    page.goto(f"{base}/inbox")
    return page, page.locator(f"#notifications li[data-kind={kind}]")
