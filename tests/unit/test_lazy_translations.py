"""Text translated when a module is imported is frozen in the language of that moment (English, for the
first request): every message translated outside a function must be lazy (`gettext_lazy`)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = (
    *("core", "notifications", "marketplace", "matching", "mentoring"),
    *("api", "frontend", "seed_data", "config"),
)
EAGER = {"gettext", "ngettext", "pgettext", "npgettext"}


def eager_names(tree: ast.Module) -> set[str]:
    """The local names of django.utils.translation's eager functions in a module."""
    return {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation"
        for alias in node.names
        if alias.name in EAGER
    }


def calls_at_import(node: ast.AST, names: set[str]):
    """Calls of `names` that run when the module is imported: not inside a function or a lambda."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
        return
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names:
        yield node
    for child in ast.iter_child_nodes(node):
        yield from calls_at_import(child, names)


def test_no_message_is_translated_when_its_module_is_imported():
    found = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            names = eager_names(tree)
            found += [f"{path.relative_to(ROOT)}:{call.lineno}" for call in calls_at_import(tree, names)]
    assert found == [], "translated at import (use gettext_lazy): " + ", ".join(found)
