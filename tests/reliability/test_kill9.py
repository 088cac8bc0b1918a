"""kill -9 during heavy traffic, restart on the same data: nothing acknowledged is lost.

The short version of ``python -m loadtest.chaos`` (``make chaos`` runs it for many rounds):
a real ``metahall serve`` process, citizens, staff, visitors, reporters and a moderator acting
at once, SIGKILL at a seeded random moment, restart, and every acknowledged ticket (number,
call, finish, queue order), rating, lead, report, moderator action and audit entry checked.
Two rounds per database here: each round restarts a server (several seconds of imports on a
busy machine); ``make chaos`` runs thirty.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from loadtest.chaos import ChaosConfig, run_chaos
from tests.helpers import requires_service
from tests.pg import fresh_database, postgres_available

# Each round restarts a real server process: on a busy machine that alone can take 10-20 s.
pytestmark = pytest.mark.timeout(300)


def _small(rounds: int, seed: int, tmp_path: Path, url: str | None = None) -> ChaosConfig:
    return ChaosConfig(rounds=rounds, seed=seed, database_url=url, citizens=12, staff=3,
                       visitors=4, reporters=3, kill_after_s=(0.6, 1.6), data_dir=tmp_path,
                       quiet=True)


def _check(summary: dict[str, Any], rounds: int) -> None:
    assert summary["rounds"] == rounds
    lost = [(r["round"], r["lost"]) for r in summary["per_round"] if r["lost_count"]]
    assert summary["items_lost"] == 0, lost
    acked = summary["acknowledged"]
    # The kills really hit live traffic of every kind, so "nothing lost" means something.
    assert all(r["acked_at_kill"] > 0 for r in summary["per_round"])
    assert acked["tickets"] > 0 and acked["finishes"] > 0 and acked["ratings"] > 0
    assert acked["leads"] > 0 and acked["reports"] + acked["mod_actions"] > 0
    assert sum(r["queue_positions_checked"] for r in summary["per_round"]) > 0
    assert all(r["audit_chain_ok"] for r in summary["per_round"])


async def test_kill9_loses_nothing_acknowledged_on_sqlite(tmp_path: Path) -> None:
    summary = await run_chaos(_small(2, 11, tmp_path))
    _check(summary, 2)


@pytest.mark.postgres
@requires_service("PostgreSQL", postgres_available())
async def test_kill9_loses_nothing_acknowledged_on_postgresql(tmp_path: Path) -> None:
    async with fresh_database() as url:
        summary = await run_chaos(_small(2, 12, tmp_path, url))
    _check(summary, 2)


async def test_the_checker_notices_lost_writes(tmp_path: Path) -> None:
    """The check itself can fail: acknowledged items missing from the database are counted."""
    from loadtest.chaos import Ledger, ServerProc, verify
    from server.db.engine import Database

    url = f"sqlite+aiosqlite:///{tmp_path / 'metahall.db'}"
    db = Database(url)
    await db.migrate()
    await db.close()
    ledger = Ledger()
    ledger.tickets["t-missing"] = {"number": "A001", "service_id": "s", "user_id": "u",
                                   "state": "done"}
    ledger.ratings["t-missing"] = 5
    ledger.leads["l-missing"] = ("b", "u")
    ledger.reports.add("r-missing")
    ledger.actions["a-missing"] = 1
    check = await verify(ServerProc(tmp_path, None), url, ledger, {})
    assert set(check["lost"]) == {"tickets", "ratings", "leads", "reports", "actions",
                                  "audit_reports", "audit_actions"}
    assert check["lost_count"] == 7
