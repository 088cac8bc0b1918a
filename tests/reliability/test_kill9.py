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
