"""Start throw-away PostgreSQL and MariaDB servers on loopback for the integration tests.

Each server lives in a temporary folder (data, socket, log), listens on a free port of 127.0.0.1,
gets a user ``synthohive`` with a password and a database ``synthohive``, and is stopped (and its
folder removed) by :meth:`Server.stop`. Nothing is mocked: these are Debian's own binaries
(``postgresql`` is on the machine image; ``.ci/run`` installs ``mariadb-server``).

PostgreSQL's ``initdb`` refuses to run as root, so as root the server runs as the ``postgres``
user (MariaDB's ``mariadbd`` runs as ``mysql``).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

USER = "synthohive"
PASSWORD = "s3cret-Pa55"  # a test password; the tests check it never shows in messages
DATABASE = "synthohive"


class ServerUnavailable(RuntimeError):
    """The server's binaries are not installed here (the tests that need the server fail)."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {log.read_text()[-2000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"server did not listen on port {port} within {timeout} s: {log.read_text()[-2000:]}")


def _as_user(user: str | None) -> dict:
    """``subprocess`` arguments that run a command as ``user`` (when we are root)."""
    if user is None:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _run(command: list[str], *, user: str | None = None, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, **_as_user(user), **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}): {result.stderr[-2000:]}")
    return result


@dataclass
class Server:
    """A running server: its SQLAlchemy URL (with the password) and how to stop it."""

    kind: str
    port: int
    folder: Path
    process: subprocess.Popen
    url: str
    admin_url: str = ""
    stopped: bool = field(default=False)

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
        shutil.rmtree(self.folder, ignore_errors=True)


def _service_user(name: str) -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(name)
    except KeyError:
        raise ServerUnavailable(f"running as root, but there is no {name!r} user to run the server") from None
    return name


def start_postgres() -> Server:
    """initdb + postgres on a free loopback port; user ``synthohive`` (password) owns db ``synthohive``."""
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not binaries:
        raise ServerUnavailable("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)")
    bindir = Path(binaries[-1]).parent
    user = _service_user("postgres")
    folder = Path(tempfile.mkdtemp(prefix="synthohive-pg-"))
    if user is not None:
        shutil.chown(folder, user, user)
    data = folder / "data"
    pwfile = folder / "pw"
    pwfile.write_text(PASSWORD)
    if user is not None:
        shutil.chown(pwfile, user, user)
    _run([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=scram-sha-256",
          f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C"], user=user)
    port = _free_port()
    log = folder / "server.log"
    with open(log, "w") as handle:
        if user is not None:
            shutil.chown(log, user, user)
        process = subprocess.Popen(
            [str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-c", "listen_addresses=127.0.0.1",
             "-c", f"unix_socket_directories={folder}", "-c", "fsync=off", "-c", "synchronous_commit=off",
             "-c", "full_page_writes=off", "-c", "max_connections=50"],
            stdout=handle, stderr=subprocess.STDOUT, **_as_user(user))
    _wait_for_port(port, process, log)
    admin = f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:{port}/postgres"
    server = Server("postgresql", port, folder, process,
                    f"postgresql+psycopg://{USER}:{PASSWORD}@127.0.0.1:{port}/{DATABASE}", admin)
    try:
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(host="127.0.0.1", port=port, user="postgres", password=PASSWORD,
                                     dbname="postgres", autocommit=True) as conn:
                    conn.execute(f"CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'")
                    conn.execute(f"CREATE DATABASE {DATABASE} OWNER {USER}")
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
    except BaseException:
        server.stop()
        raise
    return server


def start_mariadb() -> Server:
    """mariadb-install-db + mariadbd on a free loopback port; user ``synthohive`` (password), db ``synthohive``."""
    mariadbd = shutil.which("mariadbd") or shutil.which("mariadbd", path="/usr/sbin")
    install = shutil.which("mariadb-install-db")
    if mariadbd is None or install is None:
        raise ServerUnavailable("MariaDB is not installed (apt-get install mariadb-server)")
    user = _service_user("mysql")
    folder = Path(tempfile.mkdtemp(prefix="synthohive-mariadb-"))
    if user is not None:
        shutil.chown(folder, user, user)
    data = folder / "data"
    _run([install, f"--datadir={data}", "--auth-root-authentication-method=normal", "--skip-test-db",
          *( [f"--user={user}"] if user else [])], user=None)
    port = _free_port()
    sock = folder / "mysqld.sock"
    log = folder / "server.log"
    process = subprocess.Popen(
        [mariadbd, "--no-defaults", f"--datadir={data}", f"--port={port}", "--bind-address=127.0.0.1",
         f"--socket={sock}", f"--pid-file={folder / 'mysqld.pid'}", f"--log-error={log}",
         "--skip-name-resolve", "--innodb-flush-log-at-trx-commit=0", "--local-infile=1",
         *([f"--user={user}"] if user else [])],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log.touch(exist_ok=True)
    _wait_for_port(port, process, log)
    server = Server("mariadb", port, folder, process,
                    f"mysql+pymysql://{USER}:{PASSWORD}@127.0.0.1:{port}/{DATABASE}")
    try:
        import pymysql

        conn = pymysql.connect(unix_socket=str(sock), user="root", autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute(f"CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4")
                cur.execute(f"CREATE USER '{USER}'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}'")
                cur.execute(f"GRANT ALL PRIVILEGES ON *.* TO '{USER}'@'127.0.0.1'")
        finally:
            conn.close()
    except BaseException:
        server.stop()
        raise
    return server
