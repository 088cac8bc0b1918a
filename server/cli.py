"""The ``metahall`` command: serve, and administer users."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import getpass
import sys
from pathlib import Path

from aiohttp import web

from server.logs import setup_logging
from server.settings import Settings, SettingsError

__all__ = ["main"]


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from server.app import create_app

    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    settings = dataclasses.replace(settings, host=host, port=port)  # a cluster node advertises them
    if settings.use_uvloop:
        try:
            import uvloop

            uvloop.install()
        except ImportError:
            pass
    app = create_app(settings)
    db = settings.database_url or f"sqlite ({settings.data_dir / 'metahall.db'})"
    mode = "redis" if settings.redis_url else "in-process"

    def announce(*_: object) -> None:
        print(f"metahall serving http://{host}:{port}  database={db}  manager={mode}  "
              "(Ctrl-C to stop)", flush=True)

    web.run_app(app, host=host, port=port, print=announce, access_log=None,
                shutdown_timeout=2.0, handle_signals=True)
    return 0


async def _with_app(settings: Settings, coro_fn: object) -> int:
    from server.app import App

    app = App(settings)
    await app.db.migrate()
    try:
        return await coro_fn(app)  # type: ignore[operator, no-any-return]
    finally:
        await app.db.close()


def _read_password() -> str:
    if sys.stdin.isatty():
        pw = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != pw:
            raise SystemExit("Passwords do not match.")
        return pw
    return sys.stdin.readline().rstrip("\n")


def _user_add(args: argparse.Namespace, settings: Settings) -> int:
    password = _read_password()

    async def run(app: object) -> int:
        user = await app.accounts.register(  # type: ignore[attr-defined]
            args.username, password, args.display_name or args.username, roles=args.role)
        print(f"created user {args.username} id={user.id} roles={','.join(user.roles)}")
        return 0

    return asyncio.run(_with_app(settings, run))


def _user_role(args: argparse.Namespace, settings: Settings) -> int:
    async def run(app: object) -> int:
        user = await app.accounts.set_roles(  # type: ignore[attr-defined]
            args.username, args.role.split(","))
        print(f"user {args.username} roles={','.join(user.roles)}")
        return 0

    return asyncio.run(_with_app(settings, run))


def _hall_import(args: argparse.Namespace, settings: Settings) -> int:
    """Service hall: upsert services, counters and synonyms from a YAML catalogue file."""
    from server.hall_setup import load_catalogue_file

    catalogue = load_catalogue_file(Path(args.file), standalone=args.replace)

    async def run(app: object) -> int:
        hall = app.hall  # type: ignore[attr-defined]
        await hall.start()
        n = await hall.manager.import_catalogue(None, catalogue, replace=args.replace)
        await hall.core.store.close()  # commits are done; stop the writer
        total = sum(1 for s in hall.state.services.values() if s.active)
        print(f"imported {n['services']} services, {n['counters']} counters, "
              f"{n['synonyms']} synonym groups from {Path(args.file).name}; "
              f"{total} services in the hall")
        return 0

    return asyncio.run(_with_app(settings, run))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="metahall", description="metahall server")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="start the server")
    s.add_argument("--host", default=None)
    s.add_argument("--port", type=int, default=None)
    s.set_defaults(func=_serve)
    u = sub.add_parser("user", help="manage users").add_subparsers(dest="user_cmd", required=True)
    a = u.add_parser("add", help="create a user; the password is read from standard input")
    a.add_argument("username")
    a.add_argument("--role", default="citizen")
    a.add_argument("--display-name", default=None)
    a.set_defaults(func=_user_add)
    r = u.add_parser("role", help="set a user's roles (comma-separated)")
    r.add_argument("username")
    r.add_argument("role")
    r.set_defaults(func=_user_role)
    h = sub.add_parser("hall", help="service hall").add_subparsers(dest="hall_cmd", required=True)
    hi = h.add_parser("import", help="import services and counters from a YAML catalogue")
    hi.add_argument("file")
    hi.add_argument("--replace", action="store_true",
                    help="deactivate services and counters the file does not list")
    hi.set_defaults(func=_hall_import)
    from server.moderation_cli import add_commands  # moderation: audit verify, privacy

    add_commands(sub)
    from server.cluster_cli import add_command as add_cluster  # scale-out: metahall cluster

    add_cluster(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        setup_logging(settings.log_level)
        return int(args.func(args, settings))
    except SettingsError as exc:
        print(f"metahall: configuration error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from rooms.errors import MetahallError

        if isinstance(exc, MetahallError):
            print(f"metahall: {exc.message}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    raise SystemExit(main())
