"""Imports point one way (domain <- storage, scheduler, bot, reports <- app); no clock in domain."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = {
    "domain": set(),
    "storage": {"domain"},
    "reports": {"domain"},
    "scheduler": {"domain", "storage"},
    "bot": {"domain", "storage", "scheduler", "reports"},
    "app": {"domain", "storage", "scheduler", "bot", "reports"},
}
PACKAGES = set(LAYERS)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & PACKAGES


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_imports_point_one_way(layer: str) -> None:
    allowed = LAYERS[layer] | {layer}
    bad = {
        str(path.relative_to(ROOT)): sorted(_imports(path) - allowed)
        for path in (ROOT / layer).rglob("*.py")
        if _imports(path) - allowed
    }
    assert bad == {}


def test_domain_reads_no_clock_and_does_no_io() -> None:
    forbidden = {"now", "today", "utcnow", "open", "read_text", "write_text", "urlopen"}
    offenders = []
    for path in (ROOT / "domain").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name in forbidden:
                    offenders.append(f"{path.name}:{node.lineno} {name}()")
    assert offenders == []
