"""Fixtures: the local stand-ins for Zoom and Microsoft Graph, one running per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.graph import FakeGraph
from tests.fakes.zoom import FakeZoom


@pytest.fixture
async def zoom() -> AsyncIterator[FakeZoom]:
    async with FakeZoom().running() as fake:
        yield fake


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    async with FakeGraph().running() as fake:
        yield fake
