"""A store, a running `memo ui` and a headless Chromium for the browser tests."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from shared_core import Memory, Scope
from shared_core.embed import HashingEmbedder

from .harness import browser, serve

sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))
from test_cli_store import make_store  # noqa: E402

MARKUP = "<script>document.title='owned'</script><b>bold?</b> [/] \x1b[2J"


def build_ui_store(path: Path) -> dict[str, str]:
    """test_cli_store's store plus carol (to erase) and a memory of bob's holding HTML; returns some ids."""
    make_store(path)
    mem = Memory.open(path, embedder=HashingEmbedder())
    carol = Scope(tenant="acme", user="carol")
    mem.remember("Carol's passport number ends in 4417", scope=carol)
    mem.remember("Carol moved to Porto in May", scope=carol)
    html = mem.remember(MARKUP, scope=Scope(tenant="acme", user="bob"))
    key = [r for r in mem.records(Scope(tenant="acme", user="alice")) if "spare key" in r.text][0]
    mem.close()
    return {"key": key.id, "html": html.id}


@pytest.fixture(scope="session")
def ui_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    path = tmp_path_factory.mktemp("ui") / "store"
    return path, build_ui_store(path)


@pytest.fixture(scope="session")
def ui(ui_store: tuple[Path, dict[str, str]]) -> Iterator[str]:
    with serve(ui_store[0]) as base:
        yield base


@pytest.fixture(scope="session")
def driver() -> Iterator[WebDriver]:
    with browser() as d:
        yield d
