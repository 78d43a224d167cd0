"""The chat page in a real browser: Playwright driving Debian's chromium (never a browser
download). Screenshots and the measured times go to artifacts/ (git-ignored)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from test_ui import HOSTILE, FakeAssistant, answer, cite
from test_ui_client import launched, real_assistant

from trialqa import ui
from trialqa.types import Answer

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = os.environ.get("TRIALQA_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PWNED = '<img src=x onerror="window.__pwned=1"> <script>window.__pwned=2</script>'

# Records, in the page, when the next answer shows its first words and when it is complete.
WATCH_JS = """() => {
  const chat = document.querySelector('#tq-chat');
  const before = chat.querySelectorAll('.tq-answer').length;
  const w = window.__tq = {t0: performance.now(), first: null, done: null, updates: 0, last: ''};
  new MutationObserver(() => {
    const all = chat.querySelectorAll('.tq-answer');
    if (all.length <= before) return;
    const el = all[all.length - 1];
    const text = el.innerText.trim();
    if (text !== w.last && !text.startsWith('Searching the indexed trials')) {
      w.updates += 1; w.last = text;
      if (w.first === null) w.first = performance.now();
    }
    if (w.done === null && el.querySelector('.tq-meta, .tq-error, .tq-busy')) w.done = performance.now();
  }).observe(chat, {subtree: true, childList: true, characterData: true});
}"""


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Debian chromium not found at {CHROMIUM}: run 'make browser-deps' (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install -e '.[dev]'")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def open_chat(browser, url):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.dialogs, page.offsite = [], []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: None if r.url.startswith(("http://127.0.0.1", "data:", "blob:"))
            else page.offsite.append(r.url))
    page.goto(url)
    page.wait_for_selector("#tq-box textarea")
    return page


def ask(page, question: str, timeout_s: float = 60) -> dict:
    """Type `question`, press Enter, wait for the finished answer; returns page-side times (s)."""
    page.evaluate(WATCH_JS)
    page.fill("#tq-box textarea", question)
    page.keyboard.press("Enter")
    page.wait_for_function("window.__tq.done !== null", timeout=timeout_s * 1000, polling=100)
    w = page.evaluate("window.__tq")
    return {"first_s": round((w["first"] - w["t0"]) / 1000, 2), "done_s": round((w["done"] - w["t0"]) / 1000, 2),
            "updates": w["updates"]}


def last_answer(page):
    return page.locator("#tq-chat .tq-answer").last


def test_hostile_text_is_shown_not_run_and_controls_work(browser):
    def reply(q, h) -> Answer:
        return answer(text=f"{PWNED} {HOSTILE} [NCT05106972 · Enrollment]",
                      citations=[cite(quote=PWNED, title=PWNED)])

    with launched(FakeAssistant(reply, delay=0.02)) as url:
        page = open_chat(browser, url)
        assert page.title() == "trialqa"
        examples = page.locator("#tq-chat button.example")
        assert examples.count() == len(ui.EXAMPLES) and "Index" in page.inner_text(".tq-footer")
        ask(page, f"What about {PWNED}?")
        last_answer(page).locator("details.tq-cite > summary").first.click()
        page.wait_for_timeout(300)
        chat = page.locator("#tq-chat")
        assert page.evaluate("window.__pwned") is None and page.dialogs == []
        assert page.offsite == []  # no web fonts, CDNs or injected images: the page stays offline
        assert chat.locator("script").count() == 0
        assert chat.locator(".message-content img, .tq-answer img").count() == 0  # no tag, no markdown image
        assert "<script>window.__pwned=2</script>" in chat.inner_text()  # shown as text
        assert 'onerror="window.__pwned=1"' in last_answer(page).locator(".tq-card").inner_text()
        page.click("#tq-new")
        page.wait_for_selector("#tq-chat button.example")
        assert page.locator("#tq-chat .tq-answer").count() == 0
        examples.first.click()
        page.wait_for_selector("#tq-chat .tq-answer .tq-meta", timeout=30_000)
        assert ui.EXAMPLES[0] in page.locator("#tq-chat .tq-q").last.inner_text()
        page.close()


@pytest.mark.integration
def test_seed_question_in_the_browser_with_the_real_model(browser, tmp_path):
    assistant = real_assistant(tmp_path)
    assistant.generator  # noqa: B018 - load before timing, as `trialqa chat` does
    ARTIFACTS.mkdir(exist_ok=True)
    with launched(assistant) as url:
        page = open_chat(browser, url)
        page.screenshot(path=str(ARTIFACTS / "ui_empty.png"))
        field = ask(page, "What is the enrollment of NCT05106972?", timeout_s=300)
        chip = last_answer(page).locator("details.tq-cite > summary", has_text="NCT05106972")
        assert chip.count() >= 1, last_answer(page).inner_text()
        chip.first.click()
        card = last_answer(page).locator("details.tq-cite[open] .tq-card").first
        card.wait_for()
        assert "Target Recruitment: 30" in card.inner_text()
        assert card.locator("a").get_attribute("href") == "https://clinicaltrials.gov/study/NCT05106972"
        page.screenshot(path=str(ARTIFACTS / "ui_answer.png"))
        model = ask(page, "And how are the cells given to patients?", timeout_s=600)
        text = last_answer(page).inner_text()
        chips = last_answer(page).locator("details.tq-cite > summary").all_inner_texts()
        assert chips or "No answer in the indexed trials" in text, text
        assert all(c.startswith("NCT05106972") for c in chips), chips  # the follow-up kept its trial
        page.screenshot(path=str(ARTIFACTS / "ui_follow_up.png"), full_page=True)
        page.close()
    times = {"field_answer": field, "model_answer": model, "answer_text": text}
    (ARTIFACTS / "ui_browser_times.json").write_text(json.dumps(times, indent=2))
    print("browser times:", json.dumps(times))
