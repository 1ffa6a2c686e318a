"""End-to-end: `memo ui` driven in Debian's headless Chromium, as the people it is for use it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from shared_core import Memory
from shared_core.embed import HashingEmbedder

from .conftest import MARKUP
from .harness import TOKENS, login, serve, wait_text


def test_browse_a_scope_filter_the_timeline_and_open_a_memory(driver: WebDriver, ui: str) -> None:
    login(driver, ui, "admin:dpo")
    scopes = wait_text(driver, By.ID, "scopes", "alice")
    assert "bob" in scopes
    row = [r for r in driver.find_elements(By.CSS_SELECTOR, "#scopes tbody tr") if "alice" in r.text][0]
    row.find_element(By.CLASS_NAME, "open-scope").click()
    rows = wait_text(driver, By.ID, "rows", "spare key")
    assert "Lisbon" in rows and "pending_review" in rows  # every status by default
    box = driver.find_element(By.ID, "f-text")
    box.send_keys("Lisbon")  # htmx swaps the rows as you type
    WebDriverWait(driver, 30).until(lambda d: "spare key" not in d.find_element(By.ID, "rows").text)
    assert "Lisbon" in driver.find_element(By.ID, "rows").text
    driver.find_element(By.CSS_SELECTOR, "#rows td.text a").click()
    wait_text(driver, By.ID, "provenance", "origin")
    assert "Lisbon" in driver.find_element(By.ID, "record-text").text
    assert driver.find_element(By.ID, "history").text.count("add") >= 1
    assert float(driver.find_element(By.ID, "strength").text) <= 1.0
    assert "weak" in driver.find_element(By.ID, "expiry").text


def test_search_shows_scores_and_the_context_block(driver: WebDriver, ui: str) -> None:
    login(driver, ui, "admin:dpo")
    driver.get(ui + "/search?tenant=acme&user=alice")
    driver.find_element(By.ID, "q").send_keys("where is the spare key")
    budget = driver.find_element(By.ID, "budget")
    budget.clear()
    budget.send_keys("200")
    driver.find_element(By.ID, "search").click()
    block = wait_text(driver, By.ID, "context-block", "heron statue")
    assert block.startswith("<memories>") and block.rstrip().endswith("</memories>")
    hits = driver.find_element(By.ID, "hits").text
    assert "heron statue" in hits and "similarity" in hits and "recency" in hits


def test_approve_a_pending_memory_then_find_it_through_search(driver: WebDriver, ui: str) -> None:
    login(driver, ui, "admin:dpo")
    driver.get(ui + "/search?tenant=acme&user=alice&q=User+loves+jazz&budget=400")
    before = wait_text(driver, By.ID, "hits", "jazz")
    assert "User loves jazz" not in before  # pending memories are never searched
    login(driver, ui, "reviewer:kim")
    driver.find_element(By.ID, "nav-review").click()
    wait_text(driver, By.ID, "queue", "User loves jazz")
    row = [r for r in driver.find_elements(By.CSS_SELECTOR, "#queue tr.pending") if "jazz" in r.text][0]
    row.find_element(By.CLASS_NAME, "pick").click()
    driver.find_element(By.ID, "reason").send_keys("confirmed with the user")
    driver.find_element(By.ID, "approve").click()
    assert "active" in wait_text(driver, By.ID, "review-done", "approve")
    assert "User loves jazz" not in driver.find_element(By.ID, "queue").text
    login(driver, ui, "admin:dpo")
    driver.get(ui + "/search?tenant=acme&user=alice&q=User+loves+jazz&budget=400")
    assert "User loves jazz" in wait_text(driver, By.ID, "hits", "User loves jazz")  # searched now
    # the turn it came from is in the block too, and says it all: the block cites the turn alone
    block = wait_text(driver, By.ID, "context-block", "I love jazz")
    assert "User loves jazz" not in block


def test_erase_a_user_with_confirmation_then_read_the_report(driver: WebDriver, ui: str) -> None:
    login(driver, ui, "admin:dpo")
    driver.find_element(By.ID, "nav-erase").click()
    user = driver.find_element(By.ID, "erase-user")
    user.clear()
    user.send_keys("carol")
    driver.find_element(By.ID, "erase-next").click()
    assert "2 records" in wait_text(driver, By.ID, "erase-confirm", "carol")
    driver.find_element(By.ID, "confirm").send_keys("carlo")  # a typo does not erase
    driver.find_element(By.ID, "erase-confirm-button").click()
    assert "not confirmed" in wait_text(driver, By.ID, "error", "confirm")
    driver.get(ui + "/erase?tenant=acme&user=carol")
    driver.find_element(By.ID, "confirm").send_keys("carol")
    driver.find_element(By.ID, "erase-confirm-button").click()
    assert "VERIFIED" in wait_text(driver, By.ID, "erasure-verdict", "carol")
    report = driver.find_element(By.ID, "erasure-report").text
    assert "raw_scan" in report and "records" in report and " NO " not in f" {report} "
    driver.get(ui + "/")
    assert "carol" not in wait_text(driver, By.ID, "scopes", "alice")


def test_a_tampered_audit_log_is_flagged(driver: WebDriver, ui: str, ui_store: tuple[Path, dict[str, str]],
                                        tmp_path: Path) -> None:  # fmt: skip
    login(driver, ui, "auditor:eve")
    driver.find_element(By.ID, "nav-audit").click()
    assert "Chain intact" in wait_text(driver, By.ID, "chain-status", "Chain")
    tampered = tmp_path / "tampered"
    shutil.copytree(ui_store[0], tampered)
    mem = Memory.open(tampered, embedder=HashingEmbedder())
    assert mem.engine.audit is not None
    victim = mem.engine.audit.events()[3]
    # an attacker with write access to Chroma rewrites one event in its row (past the backend's checks)
    col = mem.engine.audit.backend._col  # type: ignore[attr-defined]
    rows = col.get(include=["metadatas"])
    rid, meta = next(
        (i, m) for i, m in zip(rows["ids"], rows["metadatas"]) if m["first_seq"] <= victim.seq <= m["seq"]
    )
    body = json.loads(meta["json"])
    for ev in body if isinstance(body, list) else [body]:
        if ev["seq"] == victim.seq:
            ev["reason"] = "nothing happened here"
    col.upsert(
        ids=[rid], embeddings=[[1.0]], documents=["write"], metadatas=[{**meta, "json": json.dumps(body)}]
    )
    mem.close()
    with serve(tampered) as other:
        login(driver, other, "auditor:eve")
        driver.get(other + "/audit")
        status = wait_text(driver, By.ID, "chain-status", "BROKEN")
        assert f"seq {victim.seq}" in status and "changed" in status


def test_an_auditor_cannot_open_memory_content(driver: WebDriver, ui: str,
                                               ui_store: tuple[Path, dict[str, str]]) -> None:  # fmt: skip
    login(driver, ui, "auditor:eve")
    home = wait_text(driver, By.ID, "no-content", "does not see memory content")
    assert home and not driver.find_elements(By.CLASS_NAME, "open-scope")
    assert not driver.find_elements(By.ID, "nav-search")
    key = ui_store[1]["key"]
    for path in (f"/memory/{key}?tenant=acme&user=alice", "/timeline?tenant=acme&user=alice",
                 "/search?tenant=acme&user=alice&q=spare+key", "/review?tenant=acme", "/retention?tenant=acme"):  # fmt: skip
        driver.get(ui + path)
        assert "PermissionDenied" in wait_text(driver, By.TAG_NAME, "h1", "PermissionDenied"), path
        assert "heron" not in driver.page_source and "spare key" not in driver.page_source
    driver.get(ui + "/audit")
    wait_text(driver, By.ID, "chain-status", "Chain")  # what an auditor is for


def test_stored_text_is_shown_as_data(
    driver: WebDriver, ui: str, ui_store: tuple[Path, dict[str, str]]
) -> None:
    login(driver, ui, "admin:dpo")
    driver.get(ui + f"/memory/{ui_store[1]['html']}?tenant=acme&user=bob")
    text = wait_text(driver, By.ID, "record-text", "<script>")
    assert "<b>bold?</b>" in text and "[/]" in text and "\\e[2J" in text
    assert driver.title != "owned" and not driver.find_elements(By.CSS_SELECTOR, "#record-text b")
    assert MARKUP.split("<b>")[0] in text


def test_login_refuses_a_wrong_token(driver: WebDriver, ui: str) -> None:
    driver.delete_all_cookies()
    driver.get(ui + "/timeline?tenant=acme&user=alice")
    assert "/login" in driver.current_url
    driver.find_element(By.ID, "token").send_keys(TOKENS["admin:dpo"] + "x")
    driver.find_element(By.ID, "login").click()
    assert "unknown token" in wait_text(driver, By.ID, "login-error", "unknown")
