"""Engine helpers of the SQL connectors: password masking, engine opening, error translation."""

from __future__ import annotations

import sqlite3
import sys
from urllib.parse import quote_plus

import pytest
import sqlalchemy as sa
from hypothesis import assume, given
from hypothesis import strategies as st

from syntho_hive.connectors.sql.engine import connection_errors, dialect_of, mask_url, open_engine
from syntho_hive.exceptions import ConfigurationError, MissingDependencyError, SerializationError

_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=12)
_passwords = st.text(min_size=1, max_size=30).filter(lambda text: "\x00" not in text)


def _skeleton(user: str, host: str) -> str:
    return f"postgresql+psycopg://{user}:***@{host}:5432/db"


@given(user=_names, password=_passwords, host=_names)
def test_mask_url_never_shows_a_raw_password(user: str, password: str, host: str) -> None:
    assume(password not in _skeleton(user, host))
    masked = mask_url(f"postgresql+psycopg://{user}:{password}@{host}:5432/db")
    assert password not in masked
    assert masked.startswith(f"postgresql+psycopg://{user}:***@")


@given(user=_names, password=_passwords, host=_names)
def test_mask_url_never_shows_an_encoded_password(user: str, password: str, host: str) -> None:
    encoded = quote_plus(password)
    assume(password not in _skeleton(user, host) and encoded not in _skeleton(user, host))
    masked = mask_url(f"postgresql+psycopg://{user}:{encoded}@{host}:5432/db")
    assert password not in masked and encoded not in masked
    assert masked == _skeleton(user, host)


@given(user=_names, password=_passwords, host=_names)
def test_mask_url_hides_the_password_of_url_objects(user: str, password: str, host: str) -> None:
    assume(password not in _skeleton(user, host) and quote_plus(password) not in _skeleton(user, host))
    url = sa.URL.create("postgresql+psycopg", username=user, password=password, host=host, port=5432,
                        database="db")
    masked = mask_url(url)
    assert password not in masked and quote_plus(password) not in masked
    assert masked == _skeleton(user, host)


def test_mask_url_leaves_urls_without_password_and_masks_query_passwords() -> None:
    assert mask_url("sqlite:////tmp/shop.db") == "sqlite:////tmp/shop.db"
    assert mask_url("duckdb:///:memory:") == "duckdb:///:memory:"
    assert mask_url("postgresql://host:5432/db") == "postgresql://host:5432/db"
    assert mask_url("postgresql://host/db?user=u&password=hunter22&sslmode=require") == \
        "postgresql://host/db?user=u&password=***&sslmode=require"
    assert mask_url("not a url user:hunter22@host") == "not a url user:***@host"  # unparsable, still masked


def test_open_engine_accepts_urls_and_engines() -> None:
    engine = open_engine("sqlite://")
    assert dialect_of(engine) == "sqlite"
    assert open_engine(engine) is engine
    assert dialect_of(open_engine(sa.make_url("duckdb:///:memory:"))) == "duckdb"
    assert open_engine("sqlite://", pooled=False).pool.__class__.__name__ == "NullPool"


def test_open_engine_errors_name_the_fix_and_hide_the_password() -> None:
    with pytest.raises(ConfigurationError, match="Cannot parse") as malformed:
        open_engine("postgresql://user:hunter22@host:notaport/db")
    assert "hunter22" not in str(malformed.value) and "***" in str(malformed.value)
    with pytest.raises(ConfigurationError, match="Unsupported database"):
        open_engine("oracle://user:hunter22@host/db")
    with pytest.raises(ConfigurationError, match="sqlalchemy.Engine"):
        open_engine(42)  # type: ignore[arg-type]
    with pytest.raises(MissingDependencyError, match=r"synthohive\[mysql\]") as missing:
        open_engine("mysql+mysqldb://user:hunter22@host/db")
    assert "hunter22" not in str(missing.value)


def test_connection_errors_translate_and_redact() -> None:
    engine = open_engine("postgresql+psycopg://user:Sup3r-Secret@db.example:5432/shop")
    shown = mask_url(engine.url)
    with pytest.raises(SerializationError) as error:
        with connection_errors(shown):
            raise sa.exc.OperationalError(
                "connect", {}, Exception('FATAL: password authentication failed (tried "Sup3r-Secret" on '
                                         'postgresql://user:Sup3r-Secret@db.example/shop)'))
    message = str(error.value)
    assert "Sup3r-Secret" not in message
    assert message.startswith("postgresql+psycopg://user:***@db.example:5432/shop: the server refused")
    assert "Fix:" in message and error.value.__cause__ is None

    with pytest.raises(SerializationError, match="cannot be opened"):
        with connection_errors("sqlite:///missing/dir/file.db"):
            raise sqlite3.OperationalError("unable to open database file")
    with pytest.raises(KeyError):  # not a database error: passes through
        with connection_errors("sqlite://"):
            raise KeyError("x")


def test_a_missing_sqlalchemy_is_named_at_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    from syntho_hive.connectors.sql.source import SQLSource

    monkeypatch.setitem(sys.modules, "sqlalchemy", None)  # import sqlalchemy now raises ImportError
    source = SQLSource("sqlite:///shop.db")  # constructing needs no SQLAlchemy
    for use in (source.table_names, source.reflect, lambda: source.read_table("orders")):
        with pytest.raises(MissingDependencyError, match=r"synthohive\[sql\]"):
            use()


@pytest.mark.parametrize("url, fixed", [("mysql://user:hunter22@host/db", "mysql+pymysql://"),
                                        ("mariadb://user:hunter22@host/db", "mariadb+pymysql://"),
                                        ("mysql+mysqldb://user:hunter22@host/db", "mysql+pymysql://")])
def test_a_missing_driver_the_extra_does_not_install_names_the_url_that_works(
        url: str, fixed: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """synthohive[mysql] installs PyMySQL, not SQLAlchemy's default mysqlclient: the advice must be one that works."""
    monkeypatch.setitem(sys.modules, "MySQLdb", None)  # mysqlclient absent, whether or not this machine has it
    with pytest.raises(MissingDependencyError, match=r"synthohive\[mysql\]") as missing:
        open_engine(url)
    assert f"'{fixed}...'" in str(missing.value) and "hunter22" not in str(missing.value)


def test_a_sql_target_refuses_a_postgresql_driver_other_than_psycopg() -> None:
    import types

    from syntho_hive.connectors.sql.target import SQLTarget

    stand_in = types.SimpleNamespace(paramstyle="format", __version__="1.31.0")  # no pg8000 needed: never connects
    engine = sa.create_engine("postgresql+pg8000://user:hunter22@host/db", module=stand_in)
    with pytest.raises(ConfigurationError, match=r"postgresql\+psycopg://") as refused:
        SQLTarget(engine)
    assert "hunter22" not in str(refused.value)


@pytest.mark.parametrize("option, value, raised", [("connect_timeout", "abc", "ValueError"),  # in create_engine
                                                   ("charset", "nonsense", "AttributeError")])  # in connect
@pytest.mark.parametrize("side", ["source", "target"])
def test_a_bad_url_option_is_a_configuration_error_naming_it(option: str, value: str, raised: str,
                                                            side: str) -> None:
    from syntho_hive.connectors.sql.source import SQLSource
    from syntho_hive.connectors.sql.target import SQLTarget
    from syntho_hive.core.metadata.schema import Metadata

    url = f"mysql+pymysql://user:Sup3r-Secret@127.0.0.1:1/db?{option}={value}"  # refused before any network
    with pytest.raises(ConfigurationError) as refused:
        if side == "source":
            SQLSource(url).table_names()
        else:
            SQLTarget(url).open(Metadata().add_table("a", pk="id"), ["a"])
    message = str(refused.value)
    assert "Sup3r-Secret" not in message and "user:***@127.0.0.1:1/db" in message
    assert f"{option}={value}" in message and raised in message and "Fix:" in message


@pytest.mark.parametrize("schema", ["bad;name", "a.b", "1st"])
def test_a_bad_schema_name_says_how_to_pass_a_valid_one(schema: str, tmp_path) -> None:
    """The message was about renaming a table in the metadata (Metadata.add_table), which does not fix a schema."""
    from syntho_hive.connectors.sql.target import SQLTarget
    from syntho_hive.exceptions import SchemaError

    with pytest.raises(SchemaError) as caught:
        SQLTarget(f"sqlite:///{tmp_path / 'db.sqlite'}", schema=schema)
    message = str(caught.value)
    assert f"schema {schema!r}" in message and "--schema" in message and "schema=" in message
    assert "Metadata.add_table" not in message
