"""The exception tree: one root, builtin compatibility, structured fields."""

from __future__ import annotations

import pytest

from syntho_hive import exceptions as exc
from syntho_hive._optional import import_or_raise


@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        (exc.SchemaError, ValueError),
        (exc.SchemaValidationError, exc.SchemaError),
        (exc.NotFittedError, RuntimeError),
        (exc.TrainingError, RuntimeError),
        (exc.SerializationError, OSError),
        (exc.ConstraintViolationError, ValueError),
        (exc.GenerationError, ValueError),
        (exc.MissingDependencyError, ImportError),
        (exc.ConfigurationError, TypeError),
        (exc.ConfigurationError, ValueError),
    ],
)
def test_hierarchy(error: type, builtin: type) -> None:
    assert issubclass(error, exc.SynthoHiveError)
    assert issubclass(error, builtin)


def test_schema_validation_error_lists_every_issue() -> None:
    err = exc.SchemaValidationError(["orders.user_id: 3 orphan values", "users.id: 2 duplicates"])
    assert err.issues == ["orders.user_id: 3 orphan values", "users.id: 2 duplicates"]
    assert "2 problem(s)" in str(err) and "orphan" in str(err) and "duplicates" in str(err)


def test_structured_fields() -> None:
    q = exc.QualityError("too low", failures={"age": 0.5}, threshold=0.8)
    assert q.failures == {"age": 0.5} and q.threshold == 0.8
    c = exc.ConstraintViolationError("age > 120", column="age", count=2, examples=[130, 150])
    assert (c.column, c.count, c.examples) == ("age", 2, [130, 150])


def test_missing_optional_dependency_names_the_extra() -> None:
    with pytest.raises(exc.MissingDependencyError, match=r"pip install 'synthohive\[spark\]'"):
        import_or_raise("surely_not_an_installed_module_xyz", "spark")


def test_every_exception_is_exported_and_drawn_in_the_tree() -> None:
    classes = {name for name, value in vars(exc).items()
               if isinstance(value, type) and issubclass(value, exc.SynthoHiveError)}
    assert classes == set(exc.__all__)
    for name in classes - {"SynthoHiveError"}:
        assert f"── {name} " in exc.__doc__ or f"── {name}\n" in exc.__doc__, name
