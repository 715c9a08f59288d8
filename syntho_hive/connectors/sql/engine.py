"""Opening SQLAlchemy engines, masking passwords, and turning driver errors into SynthoHive errors.

Every SQL connector goes through :func:`open_engine` (so a missing driver names the extra to
install), shows URLs only through :func:`mask_url`, and wraps its database work in
:func:`connection_errors` (so an unreachable server, a wrong password or a missing database
becomes a :class:`~syntho_hive.exceptions.SerializationError` that says what to fix and never
contains the password).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus

from syntho_hive._optional import import_or_raise
from syntho_hive.exceptions import (
    ConfigurationError,
    MissingDependencyError,
    SerializationError,
    SynthoHiveError,
)

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

__all__ = ["mask_url", "redact", "open_engine", "connect", "dialect_of", "connection_errors", "DIALECTS",
           "CONNECT_TIMEOUT_S"]

#: The dialects SynthoHive reads and writes (MariaDB reports itself as ``"mysql"``).
DIALECTS: tuple[str, ...] = ("sqlite", "postgresql", "mysql", "duckdb")
#: Seconds a network database may take to accept a connection, unless the URL says otherwise.
CONNECT_TIMEOUT_S = 10

_MASK = "***"
# ``password=...`` (and its spellings) in a URL's query string; psycopg accepts it there.
_QUERY_SECRET = re.compile(r"([?&;](?:password|passwd|pwd)=)[^&;]*", re.IGNORECASE)
# Query options of a URL whose value is a secret (shown as ***).
_SECRET_OPTIONS = {"password", "passwd", "pwd"}
# What SQLAlchemy and the drivers raise for a URL option they cannot use (connect_timeout=abc: ValueError;
# PyMySQL's charset=nonsense: AttributeError), caught only around create_engine and connect.
_OPTION_ERRORS = (ValueError, TypeError, AttributeError)
# A URL inside a driver's message (``postgresql://user:pw@host/db``).
_URL_IN_TEXT = re.compile(r"[A-Za-z][\w+.-]*://\S+")
# Passwords of the engines opened here, removed from every message built by connection_errors.
_SECRETS: set[str] = set()

# Which extra installs the module a dialect could not import.
_DRIVER_EXTRAS: dict[str, str] = {
    "psycopg": "postgres",
    "psycopg2": "postgres",
    "psycopg_binary": "postgres",
    "asyncpg": "postgres",
    "pg8000": "postgres",
    "pymysql": "mysql",
    "MySQLdb": "mysql",
    "mysqlclient": "mysql",
    "mariadb": "mysql",
    "duckdb": "duckdb",
    "duckdb_engine": "duckdb",
}
# The driver each extra installs (named in a URL as dialect+driver), and its module.
_EXTRA_DRIVERS: dict[str, str] = {"postgres": "psycopg", "mysql": "pymysql"}
_EXTRA_MODULES = {"psycopg", "psycopg_binary", "pymysql"}
_DIALECT_EXTRAS: dict[str, str] = {"postgresql": "postgres", "postgres": "postgres", "mysql": "mysql",
                                   "mariadb": "mysql", "duckdb": "duckdb"}


def mask_url(url: "str | sa.URL") -> str:
    """``url`` with its password (in the user info or the query string) replaced by ``***``.

    Works on strings SQLAlchemy cannot parse: whatever lies between the first ``:`` of the user
    info and the last ``@`` of the URL is masked, so a password that itself contains ``@`` or
    ``/`` never shows.

    Args:
        url: A database URL, as a string or a ``sqlalchemy.URL``.

    Returns:
        The URL, safe to show in logs, events, errors and reports.
    """
    if not isinstance(url, str):
        render = getattr(url, "render_as_string", None)
        text = render(hide_password=True) if callable(render) else _mask_text(str(url))
        return _QUERY_SECRET.sub(rf"\g<1>{_MASK}", text)
    return _mask_text(url)


def _mask_text(text: str) -> str:
    scheme_end = text.find("://")
    start = scheme_end + 3 if scheme_end >= 0 else 0
    rest = text[start:]
    at = rest.rfind("@")
    if at >= 0:
        userinfo = rest[:at]
        colon = userinfo.find(":")
        if colon >= 0:
            rest = f"{userinfo[:colon]}:{_MASK}{rest[at:]}"
    return _QUERY_SECRET.sub(rf"\g<1>{_MASK}", text[:start] + rest)


def _redact(text: str) -> str:
    """``text`` without any URL password nor any password of an engine opened here."""
    text = _URL_IN_TEXT.sub(lambda match: mask_url(match.group(0)), text)
    for secret in sorted(_SECRETS, key=len, reverse=True):
        for spelling in {secret, quote(secret, safe=""), quote_plus(secret)}:
            text = text.replace(spelling, _MASK)
    return text


def redact(text: str) -> str:
    """``text`` (e.g. a driver's message) with every URL password and every password of an engine
    opened here replaced by ``***``.

    Args:
        text: Any text.

    Returns:
        The text, safe to show.
    """
    return _redact(text)


def _remember_secret(password: object) -> None:
    if isinstance(password, str) and password:
        _SECRETS.add(password)


def open_engine(url_or_engine: "str | sa.URL | sa.Engine", *, pooled: bool = True) -> "sa.Engine":
    """A SQLAlchemy engine for ``url_or_engine`` (an engine given is returned as it is).

    Nothing connects yet. PostgreSQL and MySQL/MariaDB connections time out after
    :data:`CONNECT_TIMEOUT_S` seconds unless the URL sets ``connect_timeout`` itself.

    Args:
        url_or_engine: A URL such as ``"postgresql+psycopg://user:pw@host/db"``, a
            ``sqlalchemy.URL``, or an existing ``sqlalchemy.Engine``.
        pooled: Keep connections in a pool between uses (``False``: close each connection when
            it is released, so nothing stays open between calls). Ignored for an engine given.

    Returns:
        The engine.

    Raises:
        MissingDependencyError: SQLAlchemy or the database's driver is not installed (the
            message names the extra: ``sql``, ``postgres``, ``mysql`` or ``duckdb``).
        ConfigurationError: The URL is malformed, names an unknown database or has an option the
            dialect cannot use, e.g. ``?connect_timeout=abc`` (message masked, option named).
    """
    sa = import_or_raise("sqlalchemy", "sql")
    if isinstance(url_or_engine, sa.Engine):
        _remember_secret(url_or_engine.url.password)
        return url_or_engine
    if not isinstance(url_or_engine, (str, sa.URL)):
        raise ConfigurationError(
            f"A SQL connector needs a database URL (str or sqlalchemy.URL) or a sqlalchemy.Engine, got "
            f"{type(url_or_engine).__name__}. Example: 'postgresql+psycopg://user:password@host:5432/db'.")
    shown = mask_url(url_or_engine)
    try:
        url = sa.make_url(url_or_engine)
    except (sa.exc.ArgumentError, ValueError, TypeError):
        raise ConfigurationError(
            f"Cannot parse the database URL {shown!r}. Write it as "
            "'dialect+driver://user:password@host:port/database' (percent-encode special characters "
            "of the password), e.g. 'postgresql+psycopg://user:password@localhost:5432/db', "
            "'mysql+pymysql://...', 'sqlite:///path/to/file.db' or 'duckdb:///path/to/file.duckdb'."
        ) from None
    _remember_secret(url.password)
    backend = url.get_backend_name()
    if backend not in (*DIALECTS, "mariadb"):
        raise ConfigurationError(
            f"Unsupported database {url.drivername!r} in {shown!r}. SynthoHive supports sqlite, "
            "postgresql (+psycopg), mysql/mariadb (+pymysql) and duckdb.")
    connect_args: dict[str, Any] = {}
    if backend in ("postgresql", "mysql", "mariadb") and "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
    try:
        options: dict[str, Any] = {} if pooled else {"poolclass": sa.pool.NullPool}
        return sa.create_engine(url, connect_args=connect_args, **options)
    except ImportError as exc:
        missing = (exc.name or "").split(".")[0]
        extra = _DRIVER_EXTRAS.get(missing) or _DIALECT_EXTRAS.get(backend, "sql")
        driver = _EXTRA_DRIVERS.get(extra)
        if driver is not None and missing and missing not in _EXTRA_MODULES:
            # Another driver than the one the extra installs (e.g. mysqlclient, SQLAlchemy's default for
            # mysql://): installing the extra alone would not help.
            default = " (SQLAlchemy's default where the URL names no driver)" if "+" not in url.drivername else ""
            raise MissingDependencyError(
                f"The driver {missing!r} for {shown!r} is not installed{default}. Use the driver SynthoHive "
                f"installs: write the URL as '{url.get_backend_name()}+{driver}://...' and run pip install "
                f"'synthohive[{extra}]' (or install {missing!r} itself).") from None
        raise MissingDependencyError(
            f"The driver {missing or 'module'!r} for {shown!r} is not installed. "
            f"Install it with: pip install 'synthohive[{extra}]'") from None
    except sa.exc.NoSuchModuleError:
        extra = _DIALECT_EXTRAS.get(backend)
        if extra is None:
            raise ConfigurationError(
                f"Unknown database dialect {url.drivername!r} in {shown!r}. SynthoHive supports "
                "sqlite, postgresql (+psycopg), mysql/mariadb (+pymysql) and duckdb.") from None
        raise MissingDependencyError(
            f"The SQLAlchemy dialect {url.drivername!r} for {shown!r} is not installed. "
            f"Install it with: pip install 'synthohive[{extra}]'") from None
    except sa.exc.ArgumentError as exc:
        raise ConfigurationError(f"Invalid options in the database URL {shown!r}: {_redact(str(exc))}") from None
    except _OPTION_ERRORS as exc:
        raise _option_error(shown, url, exc) from None


def _option_error(shown: str, url: "sa.URL", exc: BaseException) -> ConfigurationError:
    """The error for a URL option the dialect or the driver could not use, naming the option when it can.

    The option is named when its value appears in the driver's message (``connect_timeout=abc``:
    "invalid literal for int(): 'abc'"); otherwise every option of the URL is listed. Secret
    options show as ``***``; the driver's message is redacted.
    """
    detail = _redact(" ".join(str(exc).split()))[:300]
    options = [(str(key), value) for key, values in url.query.items()
               for value in ((values,) if isinstance(values, str) else values)]
    shown_options = [f"{key}={_MASK if key.lower() in _SECRET_OPTIONS else value}" for key, value in options]
    named = [text for (key, value), text in zip(options, shown_options)
             if key.lower() not in _SECRET_OPTIONS and value and value in str(exc)]
    if named:
        where = f"the option {', '.join(named)} is not valid"
    elif shown_options:
        where = f"one of the URL's options ({', '.join(shown_options)}) is not valid"
    else:
        where = "the URL's settings are not valid"
    return ConfigurationError(
        f"Cannot use the database URL {shown!r}: {where} for {url.drivername} ({type(exc).__name__}: {detail}). "
        "Fix: correct or remove the option in the URL's query string (e.g. ?connect_timeout=10, "
        "?charset=utf8mb4 for MySQL/MariaDB; see the driver's connection parameters).")


def connect(engine: "sa.Engine") -> "sa.Connection":
    """``engine.connect()``, with a URL option the driver refuses raised as :class:`ConfigurationError`.

    Drivers check some options only when connecting, and raise plain Python errors for them
    (PyMySQL's ``?charset=nonsense``: ``AttributeError``). Database errors (server down, wrong
    password...) pass through for :func:`connection_errors`.

    Args:
        engine: The engine.

    Returns:
        An open connection.

    Raises:
        ConfigurationError: An option of the URL is not valid (the message is masked and names it).
    """
    try:
        return engine.connect()
    except _OPTION_ERRORS as exc:
        raise _option_error(mask_url(engine.url), engine.url, exc) from None


def dialect_of(engine: "sa.Engine | sa.Connection") -> str:
    """Which database ``engine`` talks to: ``"sqlite"``, ``"postgresql"``, ``"mysql"`` or ``"duckdb"``.

    MariaDB counts as ``"mysql"``.

    Raises:
        ConfigurationError: Any other database.
    """
    name = engine.dialect.name
    if name == "mariadb":
        name = "mysql"
    if name not in DIALECTS:
        raise ConfigurationError(
            f"SynthoHive does not support the {name!r} database ({mask_url(engine.engine.url)}); it reads "
            "and writes sqlite, postgresql, mysql/mariadb and duckdb.")
    return name


def _driver_errors() -> tuple[type[BaseException], ...]:
    """The base error classes of the DBAPI drivers already imported (none is imported here)."""
    found: list[type[BaseException]] = []
    for module, attribute in (("sqlite3", "Error"), ("psycopg", "Error"), ("psycopg2", "Error"),
                              ("pymysql", "Error"), ("duckdb", "Error")):
        loaded = sys.modules.get(module)
        error = getattr(loaded, attribute, None) if loaded is not None else None
        if isinstance(error, type) and issubclass(error, BaseException):
            found.append(error)
    return tuple(found)


def _handled_errors() -> tuple[type[BaseException], ...]:
    """SQLAlchemy's base error and the drivers' ones, among the modules imported so far."""
    sa = sys.modules.get("sqlalchemy")
    found = _driver_errors()
    return found if sa is None else (sa.exc.SQLAlchemyError, *found)


def _driver_error(exc: BaseException) -> BaseException:
    """The DBAPI error behind a SQLAlchemy one (or ``exc`` itself)."""
    return getattr(exc, "orig", None) or exc


def _diagnose(exc: BaseException) -> tuple[str, str]:
    """``(what went wrong, how to fix it)`` for a database error."""
    orig = _driver_error(exc)
    text = str(orig)
    lower = text.lower()
    code = orig.args[0] if isinstance(getattr(orig, "args", None), tuple) and orig.args else None
    code = code if isinstance(code, int) else None  # pymysql: (errno, message)
    sqlstate = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "diag", None), "sqlstate", None)
    if sqlstate in ("28P01", "28000") or code in (1045, 1698) or "password authentication failed" in lower \
            or "access denied for user" in lower:
        return ("the server refused the user name or password",
                "check the user and password in the URL (percent-encode special characters of the password)")
    if sqlstate == "3D000" or code == 1049 or ("database" in lower and "does not exist" in lower) \
            or "unknown database" in lower:
        return ("the database does not exist", "create it, or correct the database name in the URL")
    if sqlstate == "3F000" or ("schema" in lower and "does not exist" in lower):
        return ("the schema does not exist", "create it, or pass the name of an existing schema")
    if sqlstate == "42501" or code in (1044, 1142, 1143, 1227) or "permission denied" in lower \
            or "command denied" in lower or "readonly database" in lower or "read-only" in lower:
        return ("the user lacks a permission this needs",
                "grant the user the privileges needed (read for a source, create/insert for a target)")
    if code in (2002, 2003, 2005, 2006, 2013) or (sqlstate or "").startswith("08") or any(
            phrase in lower for phrase in ("connection refused", "could not connect", "can't connect",
                                           "timeout expired", "timed out", "connection to server",
                                           "name or service not known", "could not translate host name",
                                           "server closed the connection", "lost connection")):
        return ("the database server cannot be reached",
                "check that the server runs and that host and port in the URL are right (and reachable "
                "from here)")
    if "unable to open database file" in lower or ("no such file" in lower) or "cannot open file" in lower:
        return ("the database file cannot be opened", "check the path in the URL and its permissions")
    if "could not set lock" in lower or "database is locked" in lower:
        return ("the database file is locked by another process", "close the other connection and retry")
    if "(after year 10k)" in lower or "(before year 1)" in lower:  # psycopg: 'infinity' or a year BC
        return ("a date or timestamp is outside the years Python can hold (PostgreSQL 'infinity', '-infinity' or "
                "a year BC)", "read the table through a query that turns those values into NULL or a date, e.g. "
                "SQLSource(..., queries={'<table>': \"SELECT ..., NULLIF(d, 'infinity') AS d FROM <table>\"}) or "
                "CASE WHEN d IN ('infinity', '-infinity') THEN NULL ELSE d END, or fix the data")
    return ("the database reported an error", "see the database's message above")


@contextmanager
def connection_errors(description: str) -> Iterator[None]:
    """Turn errors of SQLAlchemy and of the database drivers raised in the block into
    :class:`~syntho_hive.exceptions.SerializationError`.

    The message names ``description`` (URLs in it masked again), what went wrong
    (server unreachable, wrong password, missing database or schema, permission denied...) and
    how to fix it. Passwords never appear in it: URLs in the driver's message are masked, and the
    password of every engine opened by :func:`open_engine` is removed. The original error is not
    chained (its text could hold a password). SynthoHive's own errors pass through unchanged.

    Args:
        description: Where the work happens, e.g. ``mask_url(url)`` or ``"table 'orders' of <url>"``.

    Raises:
        SerializationError: For any database error raised in the block.
    """
    try:
        yield
    except SynthoHiveError:
        raise
    except BaseException as exc:
        # Looked up now, not on entry: the block itself may be what imports SQLAlchemy and the driver
        # (the first use of a source creates its engine inside the block).
        handled = _handled_errors()
        if not handled or not isinstance(exc, handled):
            raise
        what, fix = _diagnose(exc)
        detail = _redact(" ".join(str(_driver_error(exc)).split()))[:600]
        # The description is ours (built from masked URLs): only URLs in it are masked again. Replacing
        # the password's text there too would garble it when the password is also a word of the URL
        # (postgres:postgres@.../postgres).
        shown = _URL_IN_TEXT.sub(lambda match: mask_url(match.group(0)), description)
        raise SerializationError(
            f"{shown}: {what} ({type(_driver_error(exc)).__name__}: {detail}). Fix: {fix}.") from None
