"""What the crawling tests share: the links a page offers to follow, the text a person
sees on it, and the Latin-letter words in that text that a Chinese page should not show.

tests/e2e/pages.py looks for the catalog's English msgids on every Chinese page a browser
journey opens; this looks for any Latin word at all, so English stored in the database or
written by code outside the catalog (a history line, an exception's name) is caught too."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

HREF = re.compile(r'href="(/[^"#]*)')
SKIPPED = ("/static/", "/logout", "/api/docs")
LATIN_WORD = re.compile(r"(?<![A-Za-z0-9_.@/-])[A-Za-z][A-Za-z'’]*(?![A-Za-z0-9_@/-])")
# Latin words a Chinese page may show, each with its reason. Everything else written in
# Latin letters on a Chinese page is a leak: English from code or data, a raw value.
ALLOWED_LATIN = {
    "QR": "the QR code is called so in Chinese too (二维码 is used beside it)",
    "ID": "an identifier is an ID in Chinese usage",
    "API": "the developers' interface",
    "URL": "an address for machines",
    "CSV": "the export file's format",
    "SMS": "the channel's name in lists of channels",
    "SHA": "the hash's name on the transparency pages",
    "English": "the language switch says its own name",
    "timebank": "the service's code name in the page title and feeds",
    "TA": "他/她 in one word, as Chinese sites write it (为 TA 报名)",
    "XLSX": "a file format",
    "JPEG": "a file format",
    "PNG": "a file format",
    "WebP": "a file format",
    "MB": "megabytes",
    "Ctrl": "a key's name (Ctrl+P)",
}
URL = re.compile(r"\b[a-z]+://\S+")
VISIBLE_ATTRIBUTES = ("placeholder", "aria-label", "title", "alt")


class _Text(HTMLParser):
    """The visible text of a page, line by line: no scripts, styles or hidden inputs;
    the attributes a person sees (placeholders, labels, tooltips) each on a line."""

    BREAKS = {"p", "div", "li", "tr", "td", "th", "br", "h1", "h2", "h3", "h4", "option",
              "section", "article", "header", "footer", "nav", "dt", "dd", "label",
              "button", "a", "span", "summary", "title"}  # fmt: skip
    HIDDEN = {"script", "style", "template", "noscript"}
    VOID = {"br", "img", "input", "meta", "link", "hr", "source", "wbr"}

    @staticmethod
    def _declared(tag: str, attrs) -> bool:
        """Text shown as typed, not in the page's language: a command or a code
        (``<code>``, ``<kbd>``), or a technical detail marked ``lang="en"`` on purpose
        (an exception's text for developers, the language switch)."""
        return tag in ("code", "kbd") or ("lang", "en") in attrs

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID and (
            tag in self.HIDDEN or self.hidden or self._declared(tag, attrs)
        ):
            self.hidden += 1
        if tag in self.BREAKS:
            self.parts.append("\n")
        for name, value in attrs if not self.hidden else ():
            if name in VISIBLE_ATTRIBUTES and value:
                self.parts.append("\n" + value + "\n")

    def handle_endtag(self, tag):
        if self.hidden and tag not in self.VOID:
            self.hidden -= 1
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible_text(html: str) -> list[str]:
    """The non-empty lines of text a person sees on ``html``."""
    parser = _Text()
    parser.feed(html)
    text = "".join(parser.parts)
    return [line.strip() for line in text.splitlines() if line.strip()]


def links(html: str) -> set[str]:
    """The site's own links on ``html`` worth following (no static files, no logout)."""
    return {unescape(h) for h in HREF.findall(html) if not h.startswith(SKIPPED)}


#: an ASCII colon or comma right after Chinese: Chinese text takes the full-width ones
ASCII_AFTER_CHINESE = re.compile(r"[\u4e00-\u9fff）][:,](?=\s)")


def ascii_punctuation(lines: list[str]) -> list[tuple[str, str]]:
    """Every (mark, line) where a line puts an ASCII ":" or "," after Chinese words."""
    return [(m.group(0)[-1], line) for line in lines for m in ASCII_AFTER_CHINESE.finditer(line)]


def latin_words(lines: list[str], allowed=ALLOWED_LATIN) -> list[tuple[str, str]]:
    """Every (word, line) where a line shows a Latin-letter word not in ``allowed``.

    Codes (letters beside digits, as "A-1234" or "5f3a"), e-mail and web addresses and file
    names are left alone: they are values, not words."""
    found = []
    for line in lines:
        line = URL.sub("", line)
        for match in LATIN_WORD.finditer(line):
            word = match.group(0).rstrip("'’")
            if word in allowed or _is_a_code(line, match):
                continue
            found.append((word, line))
    return found


def _is_a_code(line: str, match: re.Match) -> bool:
    before = line[max(0, match.start() - 1) : match.start()]
    after = line[match.end() : match.end() + 1]
    return bool(re.match(r"[0-9\-_:#+]", before) or re.match(r"[0-9\-_]", after))
