"""The chat page in a real browser: Playwright driving Debian's chromium (never a browser
download). Screenshots and the measured times go to artifacts/ (git-ignored)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from test_ui import HOSTILE, PWNED_TITLE, FakeAssistant, PlanAssistant, answer, cite
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


# ------------------------------------------------------------------ corpus-scale answers


def table_ids(page) -> list[str]:
    return last_answer(page).locator("table.tq-table tbody button.tq-trial").all_inner_texts()


def caption(page) -> str:
    return last_answer(page).locator(".tq-count").inner_text()


def shoot(page, name: str) -> None:
    """A screenshot of the page with the last answer scrolled into view (artifacts/NAME)."""
    last_answer(page).evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(150)
    page.screenshot(path=str(ARTIFACTS / name))


def act_and_wait(page, locator, predicate_js: str, timeout_ms: int = 15_000):
    """Click `locator` (a quick action: sort, page, open a record) and wait for the page to change."""
    locator.click()
    page.wait_for_function(predicate_js, timeout=timeout_ms, polling=50)


def download(page, locator) -> tuple[str, str]:
    with page.expect_download(timeout=15_000) as info:
        locator.click()
    d = info.value
    return d.suggested_filename, Path(d.path()).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def scale_assistant():
    """The corpus-scale contract at 2,000 records (fake answers, real filtering, hostile titles)."""
    return PlanAssistant(n=2000, delay=0.002)


def test_list_table_chips_csv_chart_panel_and_export(browser, scale_assistant, tmp_path):
    import csv
    import io

    a = scale_assistant
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "manifest.json").write_text(json.dumps({"counts": {"trials": 8, "chunks": 32}}))
    small = PlanAssistant(n=8)
    lib = ui.Library(a, tmp_path, load=lambda base, path: small)
    ARTIFACTS.mkdir(exist_ok=True)
    with launched(a, library=lib) as url:
        page = open_chat(browser, url)
        footer = page.inner_text("#tq-footer")
        assert "synthetic2000" in footer and f"{len(a.trials):,} trials" in footer
        took = ask(page, "Which phase 3 breast cancer trials are there?")
        expect = sorted(t.trial_id for t in a.trials.values()
                        if t.fields.phase == "Phase 3" and t.fields.conditions == ["Breast Cancer"])
        chips = last_answer(page).locator(".tq-pchip").all_inner_texts()
        assert any("phase 3" in c for c in chips) and any("condition: breast cancer" in c for c in chips), chips
        ids = table_ids(page)
        assert len(ids) == 20 and ids == expect[:20]
        assert caption(page) == f"1\u201320 of {len(expect)} matching trials of the {len(a.trials):,} indexed trials"
        assert PWNED_TITLE in last_answer(page).locator("tbody tr").first.inner_text()  # shown as text
        shoot(page, "ui_table.png")

        # sort: enrollment descending after two clicks
        header = last_answer(page).locator("th.tq-col-enrollment button")
        act_and_wait(page, header, "document.querySelector('#tq-chat th.tq-col-enrollment').innerText.includes('\u25b2')")
        act_and_wait(page, last_answer(page).locator("th.tq-col-enrollment button"),
                     "document.querySelector('#tq-chat th.tq-col-enrollment').innerText.includes('\u25bc')")
        enrol = {t: a.trials[t].fields.enrollment for t in expect}
        assert table_ids(page) == sorted(expect, key=lambda t: -enrol[t])[:20]
        # paging
        act_and_wait(page, last_answer(page).locator("button.tq-page", has_text="next"),
                     "document.querySelector('#tq-chat .tq-answer:last-of-type .tq-count, #tq-chat .tq-count')"
                     " && [...document.querySelectorAll('#tq-chat .tq-count')].pop().innerText.startsWith('21')")
        assert len(table_ids(page)) == 20 and "page 2 of" in last_answer(page).locator(".tq-pager").inner_text()

        # the CSV holds every matching trial, not only the page
        name, text = download(page, last_answer(page).locator("button.tq-csv"))
        rows = list(csv.reader(io.StringIO(text)))
        assert name.endswith(".csv") and rows[0][:2] == ["nct_id", "title"]
        assert sorted(r[0] for r in rows[1:]) == expect
        (ARTIFACTS / "ui_table.csv").write_text(text, encoding="utf-8")

        # the trial panel: the record's sections, the cited sentence highlighted, hostile title inert
        first = last_answer(page).locator("button.tq-trial").first
        tid = first.inner_text()
        act_and_wait(page, first, f"!!document.querySelector('#tq-panel .tq-panel[data-trial=\"{tid}\"] mark.tq-hl')")
        assert page.locator("#tq-panel mark.tq-hl").inner_text() == "Breast Cancer"
        assert "Design" in page.inner_text("#tq-panel")
        page.screenshot(path=str(ARTIFACTS / "ui_panel.png"), full_page=True)

        # removing a chip answers again without that filter
        before = last_answer(page).locator(".tq-count").inner_text()
        page.evaluate(WATCH_JS)
        last_answer(page).locator(".tq-pchip", has_text="phase 3").locator("button.tq-pchip-x").click()
        page.wait_for_function("window.__tq.done !== null", timeout=30_000, polling=100)
        chips = last_answer(page).locator(".tq-pchip").all_inner_texts()
        assert not any("phase 3" in c for c in chips) and any("breast cancer" in c for c in chips), chips
        everyone = [t for t in a.trials.values() if t.fields.conditions == ["Breast Cancer"]]
        assert caption(page).endswith(f"of {len(everyone)} matching trials of the {len(a.trials):,} indexed trials")
        assert caption(page) != before and "without \u201cphase 3\u201d" in page.locator("#tq-chat .tq-q").last.inner_text()
        assert a.plans[-1].filters and all(f.label != "phase 3" for f in a.plans[-1].filters)

        # a grouped count gets a bar chart
        ask(page, "How many breast cancer trials per phase?")
        bars = last_answer(page).locator(".tq-chart .tq-bar-row")
        assert bars.count() == 4 and all(n.strip() == "125" for n in bars.locator(".tq-bar-n").all_inner_texts())
        shoot(page, "ui_chart.png")

        # the red-team record (script tags in its sections) in the table and the panel
        ask(page, "Which phase 1 trials are there?")
        act_and_wait(page, last_answer(page).locator("th.tq-col-trial button"),
                     "document.querySelector('#tq-chat tbody tr') && "
                     "[...document.querySelectorAll('#tq-chat tbody')].pop().querySelector('.tq-trial').innerText === 'NCT09990005'")
        act_and_wait(page, last_answer(page).locator("button.tq-trial").first,
                     "!!document.querySelector('#tq-panel .tq-panel[data-trial=\"NCT09990005\"]')")
        assert "<script>document.location" in page.inner_text("#tq-panel")
        assert page.locator("#tq-panel script, #tq-panel iframe, #tq-panel img").count() == 0

        # the conversation exports as Markdown with its citations
        name, md = download(page, page.locator("#tq-export"))
        assert name.endswith(".md") and md.count("\n## ") == 4 and "https://clinicaltrials.gov/study/" in md

        # the index picker switches the index and the footer
        page.click("#tq-index input")
        page.get_by_role("option", name="other (8 trials)").click()
        page.wait_for_function("document.querySelector('#tq-footer').innerText.includes('synthetic8')",
                               timeout=15_000)
        assert page.evaluate("window.__pwned") is None and page.dialogs == [] and page.offsite == []
        page.screenshot(path=str(ARTIFACTS / "ui_scale.png"), full_page=True)
        page.close()
    print("list answer, fake 2,000-record assistant, browser-measured:", json.dumps(took))


LIST_Q = os.environ.get("TRIALQA_UI_LIST_Q", "Which phase 3 trials study breast cancer?")
GROUP_Q = os.environ.get("TRIALQA_UI_GROUP_Q", "How many breast cancer trials are there per phase?")
FIRST_ANSWER_TARGET_S = float(os.environ.get("TRIALQA_UI_FIRST_ANSWER_S", "1.5"))


@pytest.mark.integration
def test_list_question_over_2000_trials_in_the_browser(browser, corpus2000_index):
    """The real assistant over the 2,000 shared records: plan chips, a sortable table, the
    CSV of every matching trial, a removed chip changing the answer, a grouped count's chart,
    and the page's first answer time (printed and written to artifacts/)."""
    import csv
    import inspect
    import io

    from trialqa.assistant import Assistant

    assistant = ui.warm(Assistant.from_settings(corpus2000_index))  # as `trialqa chat` starts
    if "plan" not in inspect.signature(assistant.stream).parameters:
        pytest.skip("this Assistant cannot answer an edited plan yet")
    ARTIFACTS.mkdir(exist_ok=True)
    with launched(assistant) as url:
        page = open_chat(browser, url)
        took = ask(page, LIST_Q, timeout_s=120)
        text = last_answer(page).inner_text()
        removable = last_answer(page).locator(".tq-pchip-filter")
        assert removable.count() >= 2, text
        rows = table_ids(page)
        total = int(caption(page).split(" of ")[1].split()[0].replace(",", ""))
        assert rows and len(rows) == min(20, total) and "2,000 indexed trials" in caption(page), caption(page)
        shoot(page, "ui_2000_list.png")

        act_and_wait(page, last_answer(page).locator("th.tq-col-title button"),
                     "[...document.querySelectorAll('#tq-chat th.tq-col-title')].pop().innerText.includes('\u25b2')")
        titles = last_answer(page).locator("tbody tr td:nth-child(2)").all_inner_texts()
        assert len(titles) == len(rows) and titles == sorted(titles, key=str.lower), titles

        name, data = download(page, last_answer(page).locator("button.tq-csv"))
        csv_rows = list(csv.reader(io.StringIO(data)))[1:]
        assert len(csv_rows) == total and set(rows) <= {r[0] for r in csv_rows}
        (ARTIFACTS / "ui_2000_list.csv").write_text(data, encoding="utf-8")

        before = caption(page)
        dropped = removable.first.inner_text().rstrip("\u00d7").strip()
        page.evaluate(WATCH_JS)
        removable.first.locator("button.tq-pchip-x").click()
        page.wait_for_function("window.__tq.done !== null", timeout=120_000, polling=100)
        after = last_answer(page).locator(".tq-count")
        assert after.count() == 1 and after.inner_text() != before, (dropped, last_answer(page).inner_text())
        chips = last_answer(page).locator(".tq-pchip").all_inner_texts()
        assert not any(c.rstrip("\u00d7").strip() == dropped for c in chips), (dropped, chips)

        grouped = ask(page, GROUP_Q, timeout_s=120)
        bars = last_answer(page).locator(".tq-chart .tq-bar-row")
        assert bars.count() >= 2, last_answer(page).inner_text()
        shoot(page, "ui_2000_chart.png")
        page.close()
        expected = assistant.ask(LIST_Q).table  # computed answers are deterministic
    assert sorted(r[0] for r in csv_rows) == sorted(r.trial_id for r in expected.rows) and expected.total == total
    load = os.getloadavg()[0]
    times = {"list_question": LIST_Q, "list_answer": took, "grouped_answer": grouped,
             "target_s": FIRST_ANSWER_TARGET_S, "matching_trials": total,
             "load_average_1min": round(load, 2), "cpus": os.cpu_count()}
    (ARTIFACTS / "ui_2000_times.json").write_text(json.dumps(times, indent=2))
    print("first list answer over 2,000 trials, browser-measured:", json.dumps(times))
    if load > (os.cpu_count() or 1):  # other processes hold the CPUs: the figure is reported only
        print(f"timing not asserted: load average {load:.1f} on {os.cpu_count()} CPUs")
        return
    assert took["done_s"] <= FIRST_ANSWER_TARGET_S, times


def test_login_page_lets_only_listed_users_in(browser, tmp_path):
    from test_ui import echo

    from trialqa.auth import LoginGuard, UsersFile

    users = UsersFile(tmp_path / "users")
    users.add("alice", "alice's long password")
    with launched(FakeAssistant(echo), auth=LoginGuard(users)) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url)
        password = page.locator("input[type=password]")
        password.wait_for(timeout=30_000)
        assert page.locator("#tq-box").count() == 0  # nothing of the chat before the login

        def login(name: str, secret: str) -> int:
            page.get_by_label("username").fill(name)
            password.fill(secret)
            with page.expect_response(lambda r: r.url.endswith("/login")) as response:
                page.get_by_role("button", name="Login").click()
            return response.value.status

        assert login("alice", "not her password") == 400
        page.get_by_text("Incorrect Credentials").wait_for(timeout=10_000)
        assert page.locator("#tq-box").count() == 0
        assert login("mallory", "alice's long password") == 400
        with page.expect_navigation(timeout=30_000):  # the login page reloads into the chat
            assert login("alice", "alice's long password") == 200
        page.wait_for_selector("#tq-box textarea", timeout=30_000)
        page.wait_for_selector("#tq-chat", timeout=30_000)
        ask(page, "Enrollment of NCT05106972?")
        assert "Q=Enrollment of NCT05106972?" in last_answer(page).inner_text()
        page.close()
