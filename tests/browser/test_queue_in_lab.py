"""The queue in real JupyterLab (issue 29): Enter keeps taking prompts while a job runs, the queue
shows them in order, Alt+↑ moves one, Delete removes one, and they are made in turn, never more
than two at a time on the Space (its journal says so)."""

from __future__ import annotations

from support.journal import Journal
from support.jupyter import ARTIFACTS, BROWSER_TESTS
from support.notebook_page import NotebookPage, expect_count, history_items, set_number, wait_for

pytestmark = BROWSER_TESTS


def test_enter_queues_prompts_while_one_runs_and_they_are_made_in_turn(opened: NotebookPage, journal: Journal) -> None:
    widget, page = opened.widget(0), opened.page
    prompt = widget.get_by_label("Prompt", exact=True)
    set_number(widget, "Steps", 12)  # the first runs for 7 s (0.6 s a step)
    prompt.fill("[slow] a queued first")
    prompt.press("Enter")
    widget.get_by_role("button", name="Add to queue").wait_for(timeout=10_000)  # Generate stays enabled
    set_number(widget, "Steps", 1)  # each press keeps the settings it was made with
    for number in range(5):
        prompt.fill(f"a queued {number}")
        prompt.press("Enter")
    queue = widget.get_by_role("list", name="Queue").get_by_role("listitem")
    expect_count(queue, 5, timeout=10)
    assert widget.get_by_text("Queue · 5 waiting").is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    widget.screenshot(path=ARTIFACTS / "widget-queue.png")
    queue.nth(3).focus()
    page.keyboard.press("Alt+ArrowUp")  # "a queued 3" before "a queued 2"
    wait_for(lambda: queue.nth(2).get_attribute("aria-label").startswith("3. a queued 3"), "Alt+↑ did not move it")
    page.keyboard.press("Delete")  # the focused one stays focused after the move: "a queued 3" out
    expect_count(queue, 4, timeout=10)
    expect_count(history_items(widget), 5, timeout=60)
    buttons = history_items(widget).locator(".flux-history-button")
    made = [
        label.split(" (seed")[0] for label in buttons.evaluate_all("all => all.map(b => b.getAttribute('aria-label'))")
    ]
    assert made[::-1] == ["[slow] a queued first", "a queued 0", "a queued 1", "a queued 2", "a queued 4"], made
    assert journal.most_in_queue("a queued") <= 2
    widget.get_by_role("button", name="Generate").wait_for(timeout=10_000)
