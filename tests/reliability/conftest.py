"""Fixtures shared by the reliability tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.helpers import LiveServer, start_server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def module_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    """One server for a module whose tests use distinct users (a start-up per test cost
    seconds); such a module runs its tests in the module's event loop
    (``pytestmark = pytest.mark.asyncio(loop_scope="module")``)."""
    live = await start_server(tmp_path_factory.mktemp("srv"))
    try:
        yield live
    finally:
        await live.close()
