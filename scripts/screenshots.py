"""Regenerate docs/screenshots/*.png: the main views of `memo ui` in Debian's headless Chromium.

    .venv/bin/python scripts/screenshots.py            # needs scripts/install_browser.sh first

Builds the same small store the browser tests use (two users, a pending memory, old turns a sweep
would expire, a third user to erase), serves it with `memo ui` on 127.0.0.1 and saves one PNG per view.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "unit")]
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402

from tests.ui.conftest import build_ui_store  # noqa: E402
from tests.ui.harness import browser, login, serve, wait_text  # noqa: E402

OUT = ROOT / "docs" / "screenshots"


def shoot(d: WebDriver, name: str) -> None:
    """The whole page (up to 2400 px high), at 1400 px wide."""
    height = int(d.execute_script("return Math.max(document.documentElement.scrollHeight, 600)"))
    d.execute_cdp_cmd(  # type: ignore[attr-defined]
        "Emulation.setDeviceMetricsOverride",
        {"width": 1400, "height": min(height, 2400), "deviceScaleFactor": 1, "mobile": False},
    )
    d.save_screenshot(str(OUT / f"{name}.png"))
    d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})  # type: ignore[attr-defined]
    print(OUT / f"{name}.png")


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="memo-shots-") as tmp:
        store = Path(tmp) / "store"
        ids = build_ui_store(store)
        with serve(store) as ui, browser() as d:
            login(d, ui, "admin:dpo")
            wait_text(d, By.ID, "scopes", "alice")
            shoot(d, "scopes")
            d.get(ui + "/timeline?tenant=acme&user=alice")
            wait_text(d, By.ID, "rows", "spare key")
            shoot(d, "timeline")
            d.get(ui + f"/memory/{ids['key']}?tenant=acme&user=alice")
            wait_text(d, By.ID, "provenance", "origin")
            shoot(d, "memory")
            d.get(ui + "/search?tenant=acme&user=alice&q=where+is+the+spare+key&budget=200")
            wait_text(d, By.ID, "context-block", "heron")
            shoot(d, "search")
            d.get(ui + "/retention?tenant=acme")
            wait_text(d, By.ID, "plan", "Lisbon")
            shoot(d, "retention")
            d.get(ui + "/charts?tenant=acme")
            wait_text(d, By.ID, "sizes", "records")
            shoot(d, "charts")
            login(d, ui, "reviewer:kim")
            d.get(ui + "/review?tenant=acme")
            wait_text(d, By.ID, "queue", "jazz")
            shoot(d, "review")
            login(d, ui, "admin:dpo")
            d.get(ui + "/erase?tenant=acme&user=carol")
            wait_text(d, By.ID, "erase-confirm", "carol")
            shoot(d, "erase-confirm")
            d.find_element(By.ID, "confirm").send_keys("carol")
            d.find_element(By.ID, "erase-confirm-button").click()
            wait_text(d, By.ID, "erasure-verdict", "VERIFIED")
            shoot(d, "erase-report")
            login(d, ui, "auditor:eve")
            d.get(ui + "/audit?tenant=acme")
            wait_text(d, By.ID, "chain-status", "Chain intact")
            shoot(d, "audit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
