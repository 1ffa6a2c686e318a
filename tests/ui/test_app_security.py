"""The web app's own defences, checked over HTTP (Starlette's test client, no browser needed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from shared_core import Memory
from shared_core.embed import HashingEmbedder
from shared_core.ui.app import create_app
from shared_core.ui.auth import Tokens, parse_token_spec

from .conftest import build_ui_store

ADMIN = "admin-token-for-http-tests"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    path = tmp_path / "store"
    build_ui_store(path)
    mem = Memory.open(path, embedder=HashingEmbedder())
    app = create_app(mem, Tokens([parse_token_spec(f"admin:dpo={ADMIN}"), parse_token_spec("auditor:eve=")]))
    with TestClient(app, base_url="http://127.0.0.1:8765") as c:
        yield c
    mem.close()


def test_pages_need_a_login_and_the_session_cookie_is_locked_down(client: TestClient) -> None:
    r = client.get("/timeline?tenant=acme&user=alice", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert client.get(f"/login?token={ADMIN}x").status_code == 401
    r = client.get(f"/login?token={ADMIN}", follow_redirects=False)
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    page = client.get("/timeline?tenant=acme&user=alice")
    assert page.status_code == 200 and "spare key" in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp


def test_a_cross_site_post_is_refused_and_changes_nothing(client: TestClient) -> None:
    client.get(f"/login?token={ADMIN}")
    r = client.post("/erase", data={"tenant": "acme", "user": "carol", "confirm": "carol"},
                    headers={"origin": "http://evil.example"})  # fmt: skip
    assert r.status_code == 403
    assert "carol" in client.get("/?tenant=acme").text  # still there
    r = client.post("/erase", data={"tenant": "acme", "user": "carol", "confirm": "carol"},
                    headers={"origin": "http://127.0.0.1:8765"})  # fmt: skip
    assert r.status_code == 200 and "VERIFIED" in r.text


def test_stored_markup_is_escaped_in_every_page(client: TestClient) -> None:
    client.get(f"/login?token={ADMIN}")
    page = client.get("/timeline?tenant=acme&user=bob").text
    assert "<script>document.title" not in page and "&lt;script&gt;document.title" in page
    assert "\x1b" not in page and "\\e[2J" in page  # render.as_data's escape


def test_bad_input_is_a_400_page_not_a_crash(client: TestClient) -> None:
    client.get(f"/login?token={ADMIN}")
    assert client.get("/search?tenant=acme&user=alice&q=key&k=lots").status_code == 400
    assert client.get("/timeline?tenant=acme&user=alice&since=yesterday").status_code == 400
    assert client.get("/timeline?tenant=acme&user=alice&kind=bogus").status_code == 400
    assert client.get("/memory/nope?tenant=acme&user=alice").status_code == 404
