"""A real, throwaway PostgreSQL server for tests (Debian package `postgresql`).

`postgres_dsn` (module scope) runs initdb into a temporary folder, starts the server on a unix
socket only (no TCP) and yields a libpq connection string. As root, the server runs as the
`postgres` user (PostgreSQL refuses root). When PostgreSQL is not installed the tests skip with the
reason — except under CI (env CI=true), where they fail.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


def find_pg_bin() -> str | None:
    """The bin folder of the newest installed PostgreSQL with initdb and pg_ctl, or None."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in p.split("/")[-2].split(".")],
    )
    for folder in reversed(candidates):
        if os.access(os.path.join(folder, "initdb"), os.X_OK) and os.access(
            os.path.join(folder, "pg_ctl"), os.X_OK
        ):
            return folder
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return os.path.dirname(os.path.realpath(initdb))
    return None


class Unavailable(Exception):
    """PostgreSQL cannot be started here (the reason is the message)."""


def _unavailable(reason: str):
    raise Unavailable(reason)


def _skip_or_fail(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required under CI: {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_dsn():
    try:
        server = running_postgres()
        dsn = server.__enter__()
    except Unavailable as exc:
        _skip_or_fail(str(exc))
    try:
        yield dsn
    finally:
        server.__exit__(None, None, None)


@contextmanager
def running_postgres() -> Iterator[str]:
    """Start a throwaway server (see the module docstring); yields its DSN. Raises Unavailable."""
    bindir = find_pg_bin()
    if bindir is None:
        _unavailable("PostgreSQL is not installed (Debian package postgresql: initdb/pg_ctl not found)")
    prefix: list[str] = []
    owner = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root and there is no 'postgres' user to run the server as")
        runuser = shutil.which("runuser")
        if runuser is None:
            _unavailable("running as root and runuser is missing")
        prefix = [runuser, "-u", "postgres", "--"]
    base = tempfile.mkdtemp(prefix="ca-incidents-pg-")
    os.chmod(base, 0o755)
    data, sock, log = os.path.join(base, "data"), os.path.join(base, "sock"), os.path.join(base, "server.log")
    os.mkdir(sock)
    if owner is not None:
        for path in (base, sock):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    port = _free_port()
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    user = "tester"

    def run(*cmd: str) -> subprocess.CompletedProcess:
        return subprocess.run([*prefix, *cmd], capture_output=True, text=True, env=env, timeout=120)

    try:
        r = run(f"{bindir}/initdb", "-D", data, "-U", user, "--auth=trust", "--no-sync", "-E", "UTF8")
        if r.returncode != 0:
            _unavailable(f"initdb failed: {r.stderr.strip()[-500:]}")
        opts = f"-k {sock} -p {port} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
        r = run(f"{bindir}/pg_ctl", "-D", data, "-l", log, "-o", opts, "-w", "-t", "60", "start")
        if r.returncode != 0:
            text = open(log).read()[-1000:] if os.path.exists(log) else r.stderr
            _unavailable(f"PostgreSQL did not start: {text.strip()}")
        try:
            yield f"host={sock} port={port} dbname=postgres user={user}"
        finally:
            run(f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(base, ignore_errors=True)


CRL_REVOKED_DDL = """
CREATE TABLE crl_revoked (
    ca_id integer NOT NULL,
    serial_number bytea NOT NULL,
    reason_code integer,
    revocation_date timestamp,
    last_seen_check_date timestamp,
    PRIMARY KEY (ca_id, serial_number)
)
"""
