"""The layering rules of docs/architecture.md, read from the imports of every module (ast).

Rules, each failing with its name and the offending imports:

- ``domain-imports-face``: a domain package never imports ``drkit.cli``,
  ``drkit.api``, ``drkit.web``, ``drkit.services`` or ``drkit.ha.agent``.
- ``settings-imports-domain``: ``drkit.settings`` imports only itself,
  ``drkit.errors`` and ``drkit.plugins``.
- ``package-cycle``: no two top-level packages of ``src/drkit`` import each
  other, directly or through others; ``module-cycle``: no two modules import
  each other.

Every import counts: at module level, inside functions (a lazy import still
couples) and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
FACES = ("drkit.cli", "drkit.api", "drkit.web", "drkit.services", "drkit.ha.agent")
ENTRY_POINTS = ("drkit.__main__",)  # `python -m drkit`: the CLI's own door
SETTINGS_MAY_IMPORT = ("drkit.settings", "drkit.errors", "drkit.plugins")

KNOWN_EXCEPTIONS: frozenset[tuple[str, str, str]] = frozenset(
    {
        # (rule, importing module, imported module). Each one is a debt with its way out;
        # remove the line when it is paid (the test fails on a stale exception too).
        #
        # The notifier settings union is built from the drivers' own models; it moves to
        # a drkit.plugins Registry declared by drkit.notify (issue 12, point 3).
        ("settings-imports-domain", "drkit.settings.notifiers", "drkit.notify.email"),
        ("settings-imports-domain", "drkit.settings.notifiers", "drkit.notify.memory"),
        ("settings-imports-domain", "drkit.settings.notifiers", "drkit.notify.pagerduty"),
        ("settings-imports-domain", "drkit.settings.notifiers", "drkit.notify.slack"),
        ("settings-imports-domain", "drkit.settings.notifiers", "drkit.notify.webhook"),
        # The source settings union (PolicySource) is the sources' plugin registry; same
        # way out as the notifiers.
        ("settings-imports-domain", "drkit.settings.policies", "drkit.sources.registry"),
        # drkit.ha.runtime wires and runs the agent (it is the agent's composition, edited
        # on the HA branches); it moves beside the agent face, not into a domain.
        ("domain-imports-face", "drkit.ha.runtime", "drkit.ha.agent"),
    }
)


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    is_package: bool

    @property
    def package(self) -> str:
        """The package relative imports start from."""
        return self.name if self.is_package else self.name.rpartition(".")[0]


def _modules() -> dict[str, Module]:
    found: dict[str, Module] = {}
    for path in sorted((SRC / "drkit").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        found[name] = Module(name, path, is_package)
    return found


def _absolute(module: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.package.split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(module: Module, known: Mapping[str, Module]) -> set[str]:
    """Every drkit module ``module`` imports, wherever the import statement stands."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(module.path.read_text(), str(module.path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _absolute(module, node)
            found.add(target)
            found.update(
                f"{target}.{alias.name}"
                for alias in node.names
                if f"{target}.{alias.name}" in known
            )
    return {name for name in found if name == "drkit" or name.startswith("drkit.")}


def top(name: str) -> str:
    """``drkit.notify.email`` -> ``drkit.notify``; top-level modules stand for themselves."""
    return ".".join(name.split(".")[:2])


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


Violation = tuple[str, str, str]


def _face_imports(graph: Mapping[str, set[str]]) -> Iterator[Violation]:
    for name, targets in graph.items():
        if _within(name, FACES + ENTRY_POINTS):
            continue
        for target in targets:
            if _within(target, FACES):
                yield ("domain-imports-face", name, target)


def _settings_imports(graph: Mapping[str, set[str]]) -> Iterator[Violation]:
    for name, targets in graph.items():
        if _within(name, ("drkit.settings",)):
            for target in targets:
                if target != "drkit" and not _within(target, SETTINGS_MAY_IMPORT):
                    yield ("settings-imports-domain", name, target)


def _module_cycles(graph: Mapping[str, set[str]]) -> Iterator[Violation]:
    for name, targets in graph.items():
        for target in targets:
            if name < target and name in graph.get(target, set()):
                yield ("module-cycle", name, target)


def _reaches(edges: Mapping[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = {start}, [start]
    while todo:
        for nxt in edges.get(todo.pop(), set()):
            if nxt == goal:
                return True
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


def _package_cycles(
    graph: Mapping[str, set[str]], excepted: frozenset[Violation]
) -> Iterator[Violation]:
    """Each import between packages that closes a loop back to the importing package.

    An import excepted under another rule is set aside here: the loops it closes are
    the same debt, listed once.
    """
    crossing = [
        (name, target)
        for name, targets in graph.items()
        for target in targets
        if top(name) != top(target) and target != "drkit"
        and not any((rule, name, target) in excepted for rule in RULES)
    ]  # fmt: skip
    edges: dict[str, set[str]] = {}
    for name, target in crossing:
        edges.setdefault(top(name), set()).add(top(target))
    for name, target in crossing:
        if _reaches(edges, top(target), top(name)):
            yield ("package-cycle", name, target)


RULES = ("domain-imports-face", "settings-imports-domain", "module-cycle", "package-cycle")


def violations(
    graph: Mapping[str, set[str]], excepted: frozenset[Violation] = frozenset()
) -> set[Violation]:
    return {
        *_face_imports(graph),
        *_settings_imports(graph),
        *_module_cycles(graph),
        *_package_cycles(graph, excepted),
    }


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: imports_of(module, modules) for name, module in modules.items()}


def _report(found: set[Violation]) -> str:
    return "\n".join(f"{rule}: {name} imports {target}" for rule, name, target in sorted(found))


def test_every_layering_rule_holds(graph: dict[str, set[str]]) -> None:
    broken = violations(graph, KNOWN_EXCEPTIONS) - KNOWN_EXCEPTIONS
    assert not broken, "layering rules broken:\n" + _report(broken)


def test_every_known_exception_is_still_needed(graph: dict[str, set[str]]) -> None:
    stale = KNOWN_EXCEPTIONS - violations(graph, KNOWN_EXCEPTIONS)
    assert not stale, "paid debts still listed in KNOWN_EXCEPTIONS:\n" + _report(stale)


FACE, SETTINGS = "domain-imports-face", "settings-imports-domain"


@pytest.mark.parametrize(
    ("importer", "imported", "rule"),
    [
        ("drkit.policy.x", "drkit.cli.main", FACE),
        ("drkit.repository.x", "drkit.services", FACE),
        ("drkit.ha.x", "drkit.ha.agent.loop", FACE),
        ("drkit.ha.agents", "drkit.api", FACE),
        ("drkit.runbooks.x", "drkit.web.app", FACE),
        ("drkit.cli.x", "drkit.services.y", None),
        ("drkit.services.x", "drkit.ha.agent", None),
        ("drkit.__main__", "drkit.cli.main", None),
        ("drkit.settings.m", "drkit.errors", None),
        ("drkit.settings.m", "drkit.plugins", None),
        ("drkit.settings.m", "drkit.settings.n", None),
        ("drkit.settings.m", "drkit.policy.r", SETTINGS),
        ("drkit.settings.m", "drkit.settingsx", SETTINGS),
        ("drkit.settings", "drkit.notify", SETTINGS),
    ],
)
def test_each_one_way_rule_is_caught_and_named(
    importer: str, imported: str, rule: str | None
) -> None:
    expected = {(rule, importer, imported)} if rule else set()
    assert violations({importer: {imported}}) == expected


def test_two_modules_importing_each_other_are_a_cycle() -> None:
    edges = {
        "drkit.notify.email": {"drkit.notify.smtp"},
        "drkit.notify.smtp": {"drkit.notify.email"},
    }
    assert violations(edges) == {("module-cycle", "drkit.notify.email", "drkit.notify.smtp")}


@pytest.mark.parametrize(
    ("edges", "closing"),
    [
        ({"drkit.monitor.a": {"drkit.scheduler.b"}, "drkit.scheduler.c": {"drkit.monitor.d"}},
         {("drkit.monitor.a", "drkit.scheduler.b"), ("drkit.scheduler.c", "drkit.monitor.d")}),
        ({"drkit.a.x": {"drkit.b.x"}, "drkit.b.y": {"drkit.c.x"}, "drkit.c.z": {"drkit.a.w"}},
         {("drkit.a.x", "drkit.b.x"), ("drkit.b.y", "drkit.c.x"), ("drkit.c.z", "drkit.a.w")}),
        ({"drkit.monitor.a": {"drkit.scheduler.b"}, "drkit.scheduler.c": {"drkit.errors"}}, set()),
        ({"drkit.policy.a": {"drkit.policy.b"}, "drkit.policy.b": {"drkit.policy"}}, set()),
    ],
)  # fmt: skip
def test_packages_importing_each_other_are_a_cycle(
    edges: dict[str, set[str]], closing: set[tuple[str, str]]
) -> None:
    assert violations(edges) == {("package-cycle", a, b) for a, b in closing}


def test_an_excepted_import_closes_no_reported_cycle() -> None:
    edges = {"drkit.settings.n": {"drkit.notify.email"}, "drkit.notify.i": {"drkit.settings.m"}}
    excepted = frozenset({("settings-imports-domain", "drkit.settings.n", "drkit.notify.email")})
    assert violations(edges, excepted) == excepted
    assert ("package-cycle", "drkit.notify.i", "drkit.settings.m") in violations(edges)


def test_lazy_and_relative_imports_count(tmp_path: Path) -> None:
    path = tmp_path / "mod.py"
    path.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from drkit.settings import model\n"
        "def f():\n    from drkit.cli.main import run\n    import drkit.api\n"
        "from . import sibling\nfrom ..catalog import runs\n"
    )
    module = Module("drkit.policy.mod", path, is_package=False)
    known = {"drkit.settings.model": module, "drkit.policy.sibling": module}
    assert imports_of(module, known) == {
        "drkit.settings",
        "drkit.settings.model",
        "drkit.cli.main",
        "drkit.api",
        "drkit.policy",
        "drkit.policy.sibling",
        "drkit.catalog",
    }
