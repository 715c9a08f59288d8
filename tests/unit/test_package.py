"""Package-level promises: public names, import paths, and a cheap, side-effect-free import."""

from __future__ import annotations

import subprocess
import sys

import pytest

import syntho_hive

PUBLIC_NAMES = {
    "__version__", "Metadata", "TableConfig", "Constraint", "Inequality", "FixedCombinations", "FunctionalDependency",
    "DataTransformer", "ConditionalGenerativeModel", "CTGAN", "TabularAR", "TVAE", "Synthesizer", "SynthoHiveError", "SchemaError",
    "SchemaValidationError", "NotFittedError", "TrainingError", "SerializationError",
    "ConstraintViolationError", "GenerationError", "PrivacyError", "QualityError",
    "MissingDependencyError", "ConfigurationError", "load_model", "register_model",
}


def test_all_is_pinned() -> None:
    assert set(syntho_hive.__all__) == PUBLIC_NAMES


@pytest.mark.parametrize("name", sorted(PUBLIC_NAMES))
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(syntho_hive, name) is not None


def test_promised_import_paths() -> None:
    from syntho_hive.core.models.ctgan import CTGAN
    from syntho_hive.exceptions import SerializationError
    from syntho_hive.interface.config import Metadata

    assert CTGAN is syntho_hive.CTGAN
    assert Metadata is syntho_hive.Metadata
    assert issubclass(SerializationError, syntho_hive.SynthoHiveError)


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = syntho_hive.no_such_name  # type: ignore[attr-defined]


def test_import_is_light_and_has_no_edge_dependencies() -> None:
    code = (
        "import sys, syntho_hive, syntho_hive.interface.config;"
        "heavy = [m for m in ('torch', 'pyspark', 'sqlalchemy', 'deltalake', 'psycopg', 'pymysql')"
        " if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_core_never_imports_edge_dependencies() -> None:
    from pathlib import Path

    core = Path(syntho_hive.__file__).parent / "core"
    offenders = [
        str(path) for path in core.rglob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip().startswith(("import ", "from "))
        and any(dep in line for dep in ("pyspark", "sqlalchemy", "deltalake", "psycopg", "pymysql"))
    ]
    assert offenders == []
