"""A throwaway PostgreSQL server for the tests: Debian's binaries, a fresh cluster in a temp dir, 127.0.0.1 on a port
the OS picks, trust auth, stopped (fast shutdown) and removed at the end.

PostgreSQL refuses to run as root; as root (CI) the server runs as the ``postgres`` user the Debian package creates.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

MISSING = "PostgreSQL's server binaries are missing: apt-get install postgresql (.ci/run does)"
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Postgres:
    url: str  # SQLAlchemy URL (psycopg2, as Airflow's metadata DB docs use)


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    initdb = found[-1] if found else shutil.which("initdb")
    if initdb is None:
        raise FileNotFoundError(MISSING)
    return Path(initdb).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def postgres_server() -> Iterator[Postgres]:
    import psycopg2

    binaries = _binaries()
    base = Path(tempfile.mkdtemp(prefix="carbon-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(base, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = base / "data", _free_port()
    subprocess.run(
        [*as_user, str(binaries / "initdb"), "-D", str(data), "-U", "airflow", "--auth=trust", "-E", "UTF8",
         "--no-sync"], check=True, capture_output=True,
    )  # fmt: skip
    server = subprocess.Popen(
        [*as_user, str(binaries / "postgres"), "-D", str(data), "-p", str(port), "-c", "listen_addresses=127.0.0.1",
         "-c", f"unix_socket_directories={base}", "-c", "fsync=off"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                psycopg2.connect(host="127.0.0.1", port=port, user="airflow", dbname="postgres").close()
                break
            except psycopg2.OperationalError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"PostgreSQL did not start on port {port}") from None
                time.sleep(0.2)
        yield Postgres(f"postgresql+psycopg2://airflow@127.0.0.1:{port}/postgres")
    finally:
        os.killpg(server.pid, signal.SIGINT)  # fast shutdown
        server.wait(30)
        shutil.rmtree(base, ignore_errors=True)
