"""Import direction (docs/architecture.md): ``core`` never imports the layers built on top of it."""

from __future__ import annotations

import ast
from pathlib import Path

import syntho_hive

PACKAGE = Path(syntho_hive.__file__).parent
UPPER_LAYERS = ("syntho_hive.validation", "syntho_hive.relational", "syntho_hive.interface",
                "syntho_hive.connectors")


def _imported_modules(path: Path, package_root: Path) -> list[tuple[int, str]]:
    """Every module an ``import`` / ``from ... import`` statement of ``path`` names (anywhere in the file)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    package = ".".join(path.relative_to(package_root.parent).with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against the file's package
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found.extend((node.lineno, f"{module}.{alias.name}") for alias in node.names)
    return found


def _offenders(package_root: Path) -> list[str]:
    return [
        f"{path.relative_to(package_root.parent).as_posix()}:{line}: {module}"
        for path in sorted((package_root / "core").rglob("*.py"))
        for line, module in _imported_modules(path, package_root)
        if any(module == layer or module.startswith(layer + ".") for layer in UPPER_LAYERS)
    ]


def test_core_never_imports_upper_layers() -> None:
    assert _offenders(PACKAGE) == []


def test_the_scan_sees_function_level_and_relative_imports(tmp_path: Path) -> None:
    fake_package = tmp_path / "syntho_hive"
    core = fake_package / "core" / "models"
    core.mkdir(parents=True)
    (core / "bad.py").write_text(
        "def f():\n"
        "    from syntho_hive.validation.column_shapes import ks_complement\n"
        "    from ...interface import cli\n"
        "    import syntho_hive.relational.graph\n"
        "from syntho_hive.core.quality import shapes\n",
        encoding="utf-8")
    assert _offenders(fake_package) == [
        "syntho_hive/core/models/bad.py:2: syntho_hive.validation.column_shapes",
        "syntho_hive/core/models/bad.py:2: syntho_hive.validation.column_shapes.ks_complement",
        "syntho_hive/core/models/bad.py:3: syntho_hive.interface",
        "syntho_hive/core/models/bad.py:3: syntho_hive.interface.cli",
        "syntho_hive/core/models/bad.py:4: syntho_hive.relational.graph",
    ]


def test_validation_keeps_the_column_shape_import_path() -> None:
    from syntho_hive.core.quality import shapes
    from syntho_hive.validation import column_shapes

    for name in column_shapes.__all__:
        assert getattr(column_shapes, name) is getattr(shapes, name)
