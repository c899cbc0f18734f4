"""1,000 history entries (issue 29): the strip scrolls at 60 frames a second in Chromium, measured with
requestAnimationFrame while it scrolls, and the JS heap grows by less than 50 MB."""

from __future__ import annotations

import json

import pytest
from support.jupyter import ARTIFACTS, BROWSER_TESTS
from support.notebook_page import NotebookPage, expect_count, history_items, wait_for

pytestmark = BROWSER_TESTS

FILL = """
import io, random
from PIL import Image
from flux_widget.types import Generation
def picture(n):
    out = io.BytesIO()
    Image.new("RGB", (64, 64), tuple(random.Random(n).randrange(256) for _ in range(3))).save(out, format="WEBP")
    return out.getvalue()
for n in range(1000):
    made = Generation(prompt=f"entry {n}", seed=n, width=64, height=64, steps=1, url="", image_bytes=picture(n),
                      mime_type="image/webp", elapsed=0.1)
    w._history.add(made, run=n + 1)
w.history = w._history.entries
"""

MEASURE = """async (strip) => {
  const frames = [];
  let last = performance.now();
  for (let n = 0; n < 180; n++) {
    await new Promise((done) => requestAnimationFrame(done));
    const now = performance.now();
    frames.push(now - last);
    last = now;
    strip.scrollLeft += 40;
  }
  frames.sort((a, b) => a - b);
  return { median: frames[90], p95: frames[171], scrolled: strip.scrollLeft };
}"""


@pytest.mark.cells(FILL)
def test_a_thousand_entries_scroll_at_sixty_frames_a_second_in_bounded_memory(opened: NotebookPage) -> None:
    widget, page = opened.widget(0), opened.page
    heap = "() => (globalThis.gc && gc(), performance.memory.usedJSHeapSize)"
    before = page.evaluate(heap)
    opened.run_cell(1)
    expect_count(history_items(widget), 1000, timeout=120)
    strip = widget.get_by_role("list", name="History")
    wait_for(lambda: strip.locator("img").last.evaluate("i => i.complete"), "the thumbnails did not load", seconds=30)
    timing = strip.evaluate(MEASURE)
    grown = (page.evaluate(heap) - before) / 2**20
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "long-history.json").write_text(json.dumps({**timing, "heap_growth_mb": round(grown, 1)}) + "\n")
    assert timing["scrolled"] > 0 and timing["median"] < 1000 / 55, timing  # 60 frames a second
    assert grown < 50, f"the JS heap grew by {grown:.0f} MB"
