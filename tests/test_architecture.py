"""The layering rule: tracekit/ is the Qt-free model layer; only ui/ may import Qt."""

import ast
from pathlib import Path

FORBIDDEN_ROOTS = {"PySide6", "shiboken6", "ui"}
PACKAGE = Path(__file__).resolve().parents[1] / "tracekit"


def forbidden_imports(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in FORBIDDEN_ROOTS:
                    found.append(f"{path.relative_to(root.parent)}:{node.lineno} imports {name}")
    return found


def test_tracekit_never_imports_qt_or_the_ui_package() -> None:
    assert forbidden_imports(PACKAGE) == []


def test_the_check_catches_a_qt_import(tmp_path: Path) -> None:
    package = tmp_path / "tracekit"
    package.mkdir()
    (package / "bad.py").write_text("from PySide6.QtCore import QObject\nimport ui.app\n")
    assert len(forbidden_imports(package)) == 2


WRITE_METHODS = {"rename", "set_description", "set_gear", "upload"}


def provider_write_calls(root: Path) -> list[str]:
    """Calls of a provider's write methods (`provider.rename(...)` and the like)."""
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in WRITE_METHODS
                and isinstance(node.func.value, ast.Name)
                and "provider" in node.func.value.id.lower()
            ):
                found.append(f"{path.relative_to(root.parent)}:{node.lineno}")
    return found


def test_only_apply_writes_to_a_provider() -> None:
    callers = {place.split(":")[0] for place in provider_write_calls(PACKAGE)}
    assert callers <= {"tracekit/apply.py"}


def test_the_write_check_catches_a_stray_write(tmp_path: Path) -> None:
    package = tmp_path / "tracekit"
    package.mkdir()
    (package / "sneaky.py").write_text("def f(provider):\n    provider.rename('1', 'x')\n")
    assert provider_write_calls(package) == ["tracekit/sneaky.py:2"]
