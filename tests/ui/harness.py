"""Drive `memo ui` in a real headless Chromium (Debian's package, through its chromedriver).

Used by the browser tests and by `scripts/screenshots.py`. The server is a real `memo ui`
subprocess on a free 127.0.0.1 port; the browser is /usr/bin/chromium, never a downloaded one.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-dev-shm-usage",
         "--window-size=1400,1000"]  # fmt: skip
TOKENS = {
    "admin:dpo": "admin-token-0123456789",
    "reviewer:kim": "reviewer-token-0123456789",
    "auditor:eve": "auditor-token-0123456789",
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def require_browser() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(p)]
    if missing:
        raise RuntimeError(
            f"{', '.join(missing)} missing: run scripts/install_browser.sh (Debian's chromium)"
        )


@contextmanager
def serve(store: Path, tokens: dict[str, str] | None = None) -> Iterator[str]:
    """`memo ui` on a free loopback port; yields its base URL; stops it afterwards."""
    port = free_port()
    memo = str(Path(sys.executable).parent / "memo")
    args = [memo, "ui", "--path", str(store), "--ui-port", str(port)]
    for who, tok in (tokens or TOKENS).items():
        args += ["--token", f"{who}={tok}"]
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "ORT_DISABLE_TELEMETRY": "1", "HF_HUB_OFFLINE": "1"}
    log = open(store.parent / f"ui-{port}.log", "w")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"memo ui exited: {(store.parent / f'ui-{port}.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(base + "/login", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"memo ui did not answer on {base}")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextmanager
def browser() -> Iterator[WebDriver]:
    require_browser()
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for f in FLAGS:
        opts.add_argument(f)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def login(driver: WebDriver, base: str, who: str) -> None:
    driver.delete_all_cookies()
    driver.get(base + "/login")
    driver.find_element(By.ID, "token").send_keys(TOKENS[who])
    driver.find_element(By.ID, "login").click()
    wait_text(driver, By.ID, "who", who)


def wait_text(driver: WebDriver, by: str, what: str, text: str, timeout: float = 30) -> str:
    """Wait until the element exists and contains `text`; returns its text."""

    def ready(d: WebDriver) -> str | bool:
        try:
            got = d.find_element(by, what).text
        except Exception:
            return False
        return got if text in got else False

    try:
        return str(WebDriverWait(driver, timeout).until(ready))
    except TimeoutException:
        raise AssertionError(
            f"no {what!r} containing {text!r} on {driver.current_url}:\n{driver.page_source[-3000:]}"
        ) from None


def copy_store(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst
