"""The layers hold: the imports of src/drkit read with ast, each broken rule named.

Rules (DESIGN.md, Layout):
- a domain never imports a face or the service layer (cli, api, web, services, ha.agent);
- settings imports no domain (only errors and plugins);
- no two packages import each other;
- settings names a kind it may not import only by its registry (``RegistryRef``), and
  every such name resolves to a ``drkit.plugins.Registry``.

KNOWN lists what is broken today and is being fixed; a new break fails, and a
fixed one fails too until it is taken off the list, so the list only shrinks.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "drkit"
FACES = {"cli", "api", "web", "services", "ha.agent", "__main__"}
UPPER = ("drkit.cli", "drkit.api", "drkit.web", "drkit.services", "drkit.ha.agent")
SETTINGS_MAY_USE = {"settings", "errors", "plugins"}

KNOWN: set[str] = set()


def _package(path: Path) -> str:
    rel = path.relative_to(SRC)
    if rel.parts[:2] in (("ha", "agent"), ("ha", "agent.py")):
        return "ha.agent"  # the HA agent is a face inside the ha domain
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name == "drkit" or name.startswith("drkit.")}


def _graph() -> dict[str, set[str]]:
    """package -> the drkit modules it imports (a module of drkit/ itself is its own package)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for path in SRC.rglob("*.py"):
        graph[_package(path)].update(_imports(path))
    return graph


def broken_rules(graph: dict[str, set[str]]) -> set[str]:
    broken: set[str] = set()
    edges = {pkg: _packages(mods) - {pkg} for pkg, mods in graph.items()}  # faces too
    for pkg, modules in graph.items():
        if pkg in FACES:
            continue
        for module in modules:
            upper = next((u for u in UPPER if module == u or module.startswith(u + ".")), None)
            if upper is not None and not _inside(pkg, module):
                broken.add(f"domain {pkg} imports {upper.removeprefix('drkit.')}")
    for domain in edges.get("settings", set()) - SETTINGS_MAY_USE:
        broken.add(f"settings imports domain {domain}")
    for a, used in edges.items():
        for b in used:
            if a < b and a in edges.get(b, set()):
                broken.add(f"packages import each other: {a} <-> {b}")
    return broken


def _packages(modules: set[str]) -> set[str]:
    return {module.split(".")[1] for module in modules if "." in module}


def _inside(pkg: str, module: str) -> bool:
    """An import of the package's own modules (ha importing its agent is not one)."""
    return module.startswith(f"drkit.{pkg}.") and not module.startswith("drkit.ha.agent")


def test_the_layers_hold() -> None:
    broken = broken_rules(_graph())
    new = sorted(broken - KNOWN)
    fixed = sorted(KNOWN - broken)
    assert not new, "layering rules broken: " + "; ".join(new)
    assert not fixed, "fixed, take off KNOWN in this test: " + "; ".join(fixed)


def test_each_rule_is_caught() -> None:
    graph = {
        "repository": {"drkit.cli.output", "drkit.storage"},
        "settings": {"drkit.errors", "drkit.storage.base"},
        "storage": {"drkit.repository.repo"},
        "cli": {"drkit.services.forget"},
        "ha": {"drkit.ha.agent.loop", "drkit.ha.model"},
        "ha.agent": {"drkit.ha.model", "drkit.services.forget"},
        "api": {"drkit.web.app"},
        "web": {"drkit.api.auth"},
    }
    assert broken_rules(graph) == {
        "domain ha imports ha.agent",
        "domain repository imports cli",
        "settings imports domain storage",
        "packages import each other: repository <-> storage",
        "packages import each other: api <-> web",
    }


def _registry_refs() -> list[tuple[str, str, str]]:
    """(file, module, attribute) of every ``RegistryRef(...)`` written in settings."""
    found = []
    for path in (SRC / "settings").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "RegistryRef":
                module, attribute = (ast.literal_eval(arg) for arg in node.args)
                found.append((path.name, module, attribute))
    return found


def test_settings_names_kinds_only_by_their_registries() -> None:
    import importlib

    from drkit.plugins import Registry

    refs = _registry_refs()
    assert {module for _, module, _ in refs} >= {"drkit.notify.registry", "drkit.sources.registry"}
    for file, module, attribute in refs:
        assert module.endswith(".registry"), f"settings/{file} names {module}, not a registry"
        registry = getattr(importlib.import_module(module), attribute)
        assert isinstance(registry, Registry), f"settings/{file}: {module}.{attribute}"
