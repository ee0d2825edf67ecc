"""The architecture's rules that a reader cannot see from one file: which way the
imports between the domain modules point, and how long a file or a function may grow.

Every module under timebank/ is parsed with ``ast`` (nothing is imported), so an import
hidden inside a function or under ``if TYPE_CHECKING:`` counts as much as one at the top.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "timebank"
MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 80


@dataclass(frozen=True)
class Module:
    name: str  #: dotted, e.g. timebank.units.operations
    path: Path
    tree: ast.Module

    @property
    def shown(self) -> str:
        return str(self.path.relative_to(PACKAGE_DIR.parent))


@dataclass(frozen=True)
class Import:
    statement: str  #: as written, e.g. "from timebank.people import operations as people"
    line: int
    targets: tuple[str, ...]  #: every dotted name it may load


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> list[Module]:
    return [
        Module(_module_name(path), path, ast.parse(path.read_text(encoding="utf-8"), str(path)))
        for path in sorted(PACKAGE_DIR.rglob("*.py"))
    ]


MODULES = _modules()


def _imports(module: Module) -> list[Import]:
    """Every import in the module, at any depth; ``from a import b`` may load a and a.b,
    because b may be a module (``from timebank import people``)."""
    found = []
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            targets = tuple(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node)
            targets = (base, *(f"{base}.{alias.name}" for alias in node.names))
        else:
            continue
        found.append(Import(ast.unparse(node), node.lineno, targets))
    return sorted(found, key=lambda imp: imp.line)


def _absolute(module: Module, node: ast.ImportFrom) -> str:
    """The module a ``from ... import`` reads from, with a relative one resolved."""
    if not node.level:
        return node.module or ""
    package = module.name.split(".")
    # ``from . import x`` in a package's __init__ is the package itself
    drop = node.level - 1 if module.path.name == "__init__.py" else node.level
    package = package[: len(package) - drop]
    return ".".join(package + ([node.module] if node.module else []))


def _is_within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _forbidden_imports(
    importer: str, forbidden: tuple[str, ...], *, except_modules: tuple[str, ...] = ()
) -> list[str]:
    """One line per import, in a module of package ``importer`` (but not one of
    ``except_modules``), that reaches a ``forbidden`` package: where it is, what it says
    and what it reaches."""
    offences = []
    for module in MODULES:
        if not _is_within(module.name, importer) or module.name in except_modules:
            continue
        for imp in _imports(module):
            reached = sorted(
                {p for p in forbidden for target in imp.targets if _is_within(target, p)}
            )
            if reached:
                offences.append(
                    f"{module.shown}:{imp.line}: `{imp.statement}` reaches {', '.join(reached)}"
                )
    return offences


def _report(rule: str, offences: list[str]) -> str:
    return f"{rule}; {len(offences)} offence(s):\n  " + "\n  ".join(offences)


def test_the_package_is_parsed():
    names = {m.name for m in MODULES}
    for expected in ("timebank", "timebank.core.access", "timebank.units.operations"):
        assert expected in names, f"{expected} was not found under {PACKAGE_DIR}"


def test_the_import_reader_sees_every_kind_of_import():
    source = (
        "import timebank.ledger.models as ledger_models\n"
        "from timebank import people\n"
        "def later():\n"
        "    if True:\n"
        "        from ..activities.operations import record_scan\n"
        "        from . import models\n"
    )
    module = Module("timebank.units.fake", PACKAGE_DIR / "units" / "fake.py", ast.parse(source))
    targets = {target for imp in _imports(module) for target in imp.targets}
    for expected in (
        "timebank.ledger.models",
        "timebank.people",
        "timebank.activities.operations",
        "timebank.units.models",
    ):
        assert expected in targets, f"{expected} not among {sorted(targets)}"


def test_units_know_no_people_activities_or_ledger():
    forbidden = ("timebank.people", "timebank.activities", "timebank.ledger", "timebank.projects")
    offences = _forbidden_imports("timebank.units", forbidden)
    assert not offences, _report(
        "timebank/units/ must not import " + ", ".join(forbidden), offences
    )


#: every domain module, and the modules above them (the job table, reminders, the inbox)
DOMAIN = (
    "timebank.units",
    "timebank.people",
    "timebank.activities",
    "timebank.projects",
    "timebank.ledger",
    "timebank.inbox",
    "timebank.reminders",
    "timebank.jobs",
)


def test_core_knows_no_domain():
    forbidden = (*DOMAIN, "timebank.scheduling")
    offences = _forbidden_imports("timebank.core", forbidden)
    assert not offences, _report("timebank/core/ must not import " + ", ".join(forbidden), offences)


def test_ledger_knows_no_caller():
    forbidden = (
        "timebank.people",
        "timebank.units",
        "timebank.activities",
        "timebank.projects",
        "timebank.inbox",
        "timebank.reminders",
        "timebank.jobs",
        "timebank.transparency",
    )
    offences = _forbidden_imports("timebank.ledger", forbidden)
    assert not offences, _report(
        "timebank/ledger/ must not import " + ", ".join(forbidden), offences
    )


def test_projects_know_no_activities():
    """Activities and projects are siblings: neither reaches into the other (reports,
    above both, reads them together)."""
    offences = _forbidden_imports("timebank.projects", ("timebank.activities",))
    assert not offences, _report("timebank/projects/ must not import timebank.activities", offences)


def test_activities_know_no_projects():
    """The party members' report once added hour logs to attendance inside activities;
    that counting lives in reports now, which reads both."""
    offences = _forbidden_imports("timebank.activities", ("timebank.projects",))
    assert not offences, _report("timebank/activities/ must not import timebank.projects", offences)


def test_nothing_it_reports_on_imports_reports():
    """Reports read activities, projects, merchants, the ledger, people, units and the
    transparency log; none of them imports reports, so a report can never become a source
    of truth for them (the notice board gets its figures through a registered source)."""
    read = (
        "timebank.activities", "timebank.projects", "timebank.merchants", "timebank.ledger",
        "timebank.people", "timebank.units", "timebank.core", "timebank.transparency",
    )  # fmt: skip
    offences = [o for package in read for o in _forbidden_imports(package, ("timebank.reports",))]
    assert not offences, _report("no module reports read may import timebank.reports", offences)


def test_the_scheduler_knows_no_domain():
    """Leases, runs and alerts work for any job table; only the edges (its pages, its demo)
    read the table and the people."""
    edges = ("timebank.scheduling.views", "timebank.scheduling.demo")
    offences = _forbidden_imports("timebank.scheduling", DOMAIN, except_modules=edges)
    assert not offences, _report(
        "timebank/scheduling/ (but its views and demo) must not import a domain module", offences
    )


def test_the_inbox_knows_no_module_that_notifies():
    """Activities (and later merchants, projects) write notifications: the inbox is below
    them and knows only who receives them."""
    forbidden = ("timebank.activities", "timebank.ledger", "timebank.reminders", "timebank.jobs")
    offences = _forbidden_imports("timebank.inbox", forbidden)
    assert not offences, _report(
        "timebank/inbox/ must not import " + ", ".join(forbidden), offences
    )


def test_only_the_edges_of_the_app_know_the_transparency_log():
    """The log reads the ledger (and a notice board's community from units); no domain
    module imports it. Reports, above every module, read it (certificates carry its
    proofs, and the notice board's figures are theirs); the app registers its check with
    the ledger's verify and the reports' figures with the notice board; the job table, the
    CLI and the demo call its operations."""
    allowed = ("timebank", "timebank.jobs", "timebank.cli", "timebank.demo")
    offences = [
        offence
        for offence in _forbidden_imports("timebank", ("timebank.transparency",))
        if not offence.startswith(
            ("timebank/transparency/", "timebank/reports/", "timebank/__init__.py")
        )
        and not any(offence.startswith(name.replace(".", "/") + ".py") for name in allowed[1:])
    ]
    assert not offences, _report("only the app's edges import timebank.transparency", offences)


def _long_functions(module: Module) -> list[str]:
    found = []
    for node in ast.walk(module.tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            # from the ``def`` line (decorators not counted) to the function's last line
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(f"{module.shown}:{node.lineno} {node.name}() has {length} lines")
    return found


def test_files_and_functions_stay_short():
    offences = []
    for module in MODULES:
        lines = len(module.path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_FILE_LINES:
            offences.append(f"{module.shown} has {lines} lines")
        offences += _long_functions(module)
    assert not offences, _report(
        f"no file over {MAX_FILE_LINES} lines, no function over {MAX_FUNCTION_LINES}", offences
    )
