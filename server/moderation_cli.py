"""``metahall audit verify`` and ``metahall privacy export|erase USER``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from server.moderation_audit import ModerationDb, audit_key, verify_audit
from server.moderation_privacy import erase_user, export_user, resolve_user
from server.settings import Settings

__all__ = ["add_commands"]


async def _with_db(settings: Settings, fn: Any) -> Any:
    from server.db.engine import Database

    db = Database(settings.effective_database_url)
    try:
        await db.migrate()
        return await fn(ModerationDb(db, audit_key(settings.load_secret())))
    finally:
        await db.close()


def _verify(args: argparse.Namespace, settings: Settings) -> int:
    async def run(mdb: ModerationDb) -> Any:
        return await verify_audit(mdb.db, mdb.key, args.expected_head)

    res = asyncio.run(_with_db(settings, run))
    if res.ok:
        print(f"audit log intact: {res.checked} entries, head {res.head or '-'}")
        return 0
    print(f"audit log BROKEN at seq {res.first_bad_seq}: {res.problem} "
          f"({res.checked} entries checked)", file=sys.stderr)
    return 1


def _export(args: argparse.Namespace, settings: Settings) -> int:
    async def run(mdb: ModerationDb) -> Any:
        return await export_user(mdb.db, args.user)

    data = asyncio.run(_with_db(settings, run))
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
        print(f"exported user {data['user']['id']} to {args.out}")
    else:
        print(text)
    return 0


def _erase(args: argparse.Namespace, settings: Settings) -> int:
    if not args.yes:
        if not sys.stdin.isatty():
            print("metahall: refusing to erase without --yes", file=sys.stderr)
            return 2
        answer = input(f"Erase the personal data of user {args.user}? Type 'erase': ")
        if answer.strip() != "erase":
            print("nothing erased")
            return 1

    async def run(mdb: ModerationDb) -> Any:
        user = await resolve_user(mdb.db, args.user)
        return user.id, await erase_user(mdb, user.id)

    uid, counts = asyncio.run(_with_db(settings, run))
    print(f"erased user {uid}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    return 0


def add_commands(sub: Any) -> None:
    """Add the ``audit`` and ``privacy`` sub-commands to the ``metahall`` parser."""
    a = sub.add_parser("audit", help="moderation audit log").add_subparsers(
        dest="audit_cmd", required=True)
    v = a.add_parser("verify", help="check the hash chain; exit 1 if an entry was edited, "
                                    "inserted or deleted")
    v.add_argument("--expected-head", default=None,
                   help="the head hash recorded earlier outside the database")
    v.set_defaults(func=_verify)
    p = sub.add_parser("privacy", help="personal data of one user").add_subparsers(
        dest="privacy_cmd", required=True)
    e = p.add_parser("export", help="everything stored about USER (id or username), as JSON")
    e.add_argument("user")
    e.add_argument("--out", default=None, help="write to this file instead of standard output")
    e.set_defaults(func=_export)
    r = p.add_parser("erase", help="erase USER's personal data (the audit log is kept)")
    r.add_argument("user")
    r.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    r.set_defaults(func=_erase)
