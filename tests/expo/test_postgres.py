"""The expo over the wire on a fresh PostgreSQL database: organiser, exhibitor, uploads,
leads with export, figures and the heatmap, and visitors racing for one meeting slot."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.expo.crafted import pdf, png
from tests.expo.live import exhibitor, organiser, visitor
from tests.helpers import requires_service, start_server
from tests.pg import fresh_database, postgres_available

pytestmark = [pytest.mark.postgres, requires_service("PostgreSQL", postgres_available())]


async def test_the_expo_on_postgresql(tmp_path: Path) -> None:
    async with fresh_database() as url:
        live = await start_server(tmp_path, database_url=url)
        try:
            admin = await organiser(live)
            status, expo = await admin.call("POST", "/api/expos", {
                "id": "pgfair", "name": {"en": "PG Fair"}, "halls": [{"rows": 2, "cols": 4}]})
            assert status == 201, expo
            assert (await admin.call("POST", "/api/expos/pgfair/publish", {"published": True}))[0] == 200
            ex, _, booth = await exhibitor(live, admin, "pgex", "b3", "PG Co", expo="pgfair")
            status, logo = await ex.upload(booth, png(), "logo.png", "image/png")
            assert status == 201
            status, brochure = await ex.upload(booth, pdf(), "b.pdf", "application/pdf", "brochure")
            assert status == 201
            status, b = await ex.call("PUT", f"/api/expo/booths/{booth}", {
                "name": {"zh-CN": "数据库", "en": "Database"}, "logo": logo["id"],
                "brochures": [brochure["id"]], "keywords": ["postgres"]})
            assert status == 200 and b["logo"]["id"] == logo["id"]
            v, _ = await visitor(live, "Pat")
            found = (await v.call("GET", "/api/expos/pgfair/booths?q=postgres"))[1]
            assert [x["id"] for x in found] == [booth]
            assert (await v.call("POST", f"/api/expo/booths/{booth}/lead", {
                "consent": True, "contact": {"email": "pat@example.org"}}))[0] == 201
            status, _, raw = await ex.raw("GET", f"/api/expo/booths/{booth}/leads.xlsx")
            assert status == 200 and raw[:2] == b"PK"
            status, stats = await ex.call("GET", f"/api/expo/booths/{booth}/analytics")
            assert status == 200 and stats["leads"] == 1 and stats["visitors"] == 0
            assert (await ex.raw("GET", "/api/expo/halls/expo:pgfair/heatmap.png"))[0] == 200
            # Ten visitors press "book" on one slot at once: one meeting.
            start = int(time.time() * 1000) + 3_600_000
            status, slots = await ex.call("POST", f"/api/expo/booths/{booth}/slots",
                                          {"start": start, "minutes": 30})
            assert status == 201
            people = [(await visitor(live, f"v{i}"))[0] for i in range(10)]
            results = await asyncio.gather(*(p.call("POST", "/api/expo/meetings",
                                                    {"slot_id": slots[0]["id"]}) for p in people))
            assert sorted(s for s, _ in results) == [201] + [409] * 9
            assert (await ex.call("GET", f"/api/expo/booths/{booth}/meetings"))[1][0]["slot_id"] \
                == slots[0]["id"]
        finally:
            await live.close()
