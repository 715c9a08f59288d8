"""Import direction (docs/architecture.md): ``core`` never imports the layers built on top of it,
and inside ``core`` each part imports only the parts below it."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from pathlib import Path

import pytest

import syntho_hive

PACKAGE = Path(syntho_hive.__file__).parent
UPPER_LAYERS = ("syntho_hive.validation", "syntho_hive.relational", "syntho_hive.interface",
                "syntho_hive.connectors", "syntho_hive.privacy")
# Inside core, from the bottom: metadata (schema, declared-constraint rules and checks, date formats);
# checkpoint (directory format); data and quality (on metadata); constraints (on metadata and
# _json_state, which uses data); models (on everything). Each part -> what it must never import.
CORE_RULES: dict[str, tuple[str, ...]] = {
    "syntho_hive.core.metadata": ("syntho_hive.core.constraints", "syntho_hive.core.data",
                                  "syntho_hive.core.models", "syntho_hive.core.quality",
                                  "syntho_hive.core.checkpoint", "syntho_hive.core._json_state"),
    "syntho_hive.core.checkpoint": ("syntho_hive.core.metadata", "syntho_hive.core.constraints",
                                    "syntho_hive.core.data", "syntho_hive.core.models",
                                    "syntho_hive.core.quality"),
    "syntho_hive.core.data": ("syntho_hive.core.constraints", "syntho_hive.core.models",
                              "syntho_hive.core.quality", "syntho_hive.core.checkpoint",
                              "syntho_hive.core._json_state"),
    "syntho_hive.core.quality": ("syntho_hive.core.constraints", "syntho_hive.core.data",
                                 "syntho_hive.core.models", "syntho_hive.core.checkpoint"),
    "syntho_hive.core.constraints": ("syntho_hive.core.models", "syntho_hive.core.quality",
                                     "syntho_hive.core.checkpoint"),
    # Differential privacy (settings, mechanisms, accountant): numbers only; the models use it.
    "syntho_hive.core.dp": ("syntho_hive.core.metadata", "syntho_hive.core.constraints", "syntho_hive.core.data",
                            "syntho_hive.core.models", "syntho_hive.core.quality", "syntho_hive.core.checkpoint"),
    # Times of day as durations: pandas only; metrics, models and the relational layer use it.
    "syntho_hive.core.time_of_day": ("syntho_hive.core.metadata", "syntho_hive.core.constraints",
                                     "syntho_hive.core.data", "syntho_hive.core.models", "syntho_hive.core.quality",
                                     "syntho_hive.core.checkpoint", "syntho_hive.core.dp"),
    # Privacy building blocks (PII detection, actions) sit on metadata and semantic; models use them.
    "syntho_hive.core.privacy": ("syntho_hive.core.models", "syntho_hive.core.checkpoint",
                                 "syntho_hive.core.data", "syntho_hive.core.constraints"),
}
# The only parts of core that may import torch (``import syntho_hive`` and the rest of core stay torch-free).
TORCH_USERS = ("syntho_hive.core.models", "syntho_hive.core.checkpoint")


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


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


def _module_name(path: Path, package_root: Path) -> str:
    parts = path.relative_to(package_root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _offenders(package_root: Path, scanned: str = "syntho_hive.core", forbidden: Sequence[str] = UPPER_LAYERS,
               exempt: Sequence[str] = ()) -> list[str]:
    """``file:line: module`` for each import of a ``forbidden`` module in ``scanned`` (a package or a
    module), leaving out the files of the ``exempt`` parts."""
    base = package_root.parent.joinpath(*scanned.split("."))
    files = sorted(base.rglob("*.py")) if base.is_dir() else [base.with_suffix(".py")]
    return [
        f"{path.relative_to(package_root.parent).as_posix()}:{line}: {module}"
        for path in files
        if not any(_within(_module_name(path, package_root), part) for part in exempt)
        for line, module in _imported_modules(path, package_root)
        if any(_within(module, name) for name in forbidden)
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


@pytest.mark.parametrize("part", sorted(CORE_RULES))
def test_each_part_of_core_imports_only_the_parts_below_it(part: str) -> None:
    assert _offenders(PACKAGE, part, CORE_RULES[part]) == []


def test_only_models_and_checkpoint_import_torch() -> None:
    assert _offenders(PACKAGE, "syntho_hive.core", ("torch",), TORCH_USERS) == []


@pytest.mark.parametrize("part", sorted(CORE_RULES))
def test_a_core_rule_fails_when_its_part_imports_a_part_above(tmp_path: Path, part: str) -> None:
    fake_package = tmp_path / "syntho_hive"
    where = fake_package.parent.joinpath(*part.split("."))
    bad = where / "sub" / "bad.py" if PACKAGE.parent.joinpath(*part.split(".")).is_dir() else where.with_suffix(".py")
    bad.parent.mkdir(parents=True)
    forbidden = CORE_RULES[part]
    bad.write_text(
        "import syntho_hive.exceptions\n"  # allowed: not reported
        "def f():\n" + "".join(f"    import {name}.inner\n" for name in forbidden)
        + f"from {forbidden[0].rpartition('.')[0]} import {forbidden[0].rpartition('.')[2]}\n",
        encoding="utf-8")
    shown = bad.relative_to(tmp_path).as_posix()
    assert sorted(_offenders(fake_package, part, forbidden)) == sorted([
        *(f"{shown}:{line}: {name}.inner" for line, name in enumerate(forbidden, start=3)),
        f"{shown}:{len(forbidden) + 3}: {forbidden[0]}",
    ])


def test_the_torch_rule_fails_outside_models_and_checkpoint(tmp_path: Path) -> None:
    fake_package = tmp_path / "syntho_hive"
    for folder in ("data", "models/ctgan"):
        (fake_package / "core" / folder).mkdir(parents=True)
    (fake_package / "core" / "models" / "ctgan" / "networks.py").write_text("import torch\n", encoding="utf-8")
    (fake_package / "core" / "checkpoint.py").write_text("import torch\n", encoding="utf-8")
    (fake_package / "core" / "data" / "bad.py").write_text(
        "def f():\n    from torch import nn\n    import torch.nn.functional as F\n", encoding="utf-8")
    (fake_package / "core" / "models_helpers.py").write_text("import torch\n", encoding="utf-8")
    assert _offenders(fake_package, "syntho_hive.core", ("torch",), TORCH_USERS) == [
        "syntho_hive/core/data/bad.py:2: torch",
        "syntho_hive/core/data/bad.py:2: torch.nn",
        "syntho_hive/core/data/bad.py:3: torch.nn.functional",
        "syntho_hive/core/models_helpers.py:1: torch",
    ]


def test_privacy_imports_only_relational_and_core() -> None:
    assert _offenders(PACKAGE, "syntho_hive.privacy", ("syntho_hive.validation", "syntho_hive.interface",
                                                       "syntho_hive.connectors")) == []


def test_validation_keeps_the_column_shape_import_path() -> None:
    from syntho_hive.core.quality import shapes
    from syntho_hive.validation import column_shapes

    for name in column_shapes.__all__:
        assert getattr(column_shapes, name) is getattr(shapes, name)
