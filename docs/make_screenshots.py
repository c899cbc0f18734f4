"""Make README's screenshots: the widget in real JupyterLab (Debian Chromium), light and dark, 1280 and 480 px.

Against the tests' stand-in Space on 127.0.0.1 (no network). Run:  python docs/make_screenshots.py [--out docs]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.jupyter import browser, jupyter_server, write_notebook
from support.notebook_page import NotebookPage, expect_count, history_items, set_number
from support.servers import start_standin, stop

CELL = "from flux_widget import FluxWidget\nw = FluxWidget(width=1024, height=768, steps=4)\nw"
PROMPTS = ["a lighthouse at dusk", "a fox in the snow", "a paper boat"]


SHOTS = [("light", 1280, False), ("dark", 1280, True), ("light", 480, False), ("dark", 480, False)]


def shoot(out: Path, space: str, theme: str, width: int, batch: bool) -> Path:
    """Screenshot the widget after three images (and a batch of four, if ``batch``); the file's path."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "lab"
        root.mkdir()
        write_notebook(root / "shot.ipynb", [CELL])
        lab_theme = "JupyterLab Dark" if theme == "dark" else "JupyterLab Light"
        with jupyter_server(root, {"FLUX_WIDGET_SPACE": space}, theme=lab_theme) as url, browser() as chromium:
            page = chromium.new_page(viewport={"width": width, "height": 900}, device_scale_factor=1)
            notebook = NotebookPage(page, url)
            widget = notebook.open_widget("shot.ipynb", workspace=f"shot-{theme}-{width}")
            # The file browser closed, as on a small screen: the notebook gets the page's width.
            page.locator(".jp-SideBar .lm-TabBar-tab.lm-mod-current").first.click()
            page.wait_for_timeout(300)
            for prompt in PROMPTS:
                widget.get_by_label("Prompt", exact=True).fill(prompt)
                widget.get_by_role("button", name="Generate").click()
                expect_count(history_items(widget), PROMPTS.index(prompt) + 1)
            if batch:
                set_number(widget, "Images", 4)
                widget.get_by_label("Prompt", exact=True).fill("four paper boats on a pond")
                widget.get_by_role("button", name="Generate").click()
                expect_count(history_items(widget), len(PROMPTS) + 4)
            page.wait_for_timeout(800)
            # The line naming the Space would show the local stand-in's address, and the status bar would cover the
            # widget's bottom: both left out of the pictures.
            page.add_style_tag(content=".flux-source { visibility: hidden; } #jp-bottom-panel { display: none; }")
            path = out / f"widget-{theme}-{width}{'-batch' if batch else ''}.png"
            widget.screenshot(path=path)
            if theme == "light" and width >= 1280:
                # The gallery: one image starred (S), the history searched.
                strip = widget.get_by_role("list", name="History")
                strip.get_by_role("button", name=f"{PROMPTS[1]} ", exact=False).first.focus()
                page.keyboard.press("s")
                widget.get_by_role("searchbox", name="Search history").fill("fox")
                page.wait_for_timeout(500)
                widget.screenshot(path=out / "widget-gallery.png")
                widget.get_by_role("searchbox", name="Search history").fill("")
                # The full-size view of the image on show, over the page.
                widget.get_by_role("button", name=f"View full size: {PROMPTS[-1]}").click()
                page.locator("dialog[open][aria-busy=false]").wait_for(timeout=10_000)
                page.wait_for_timeout(500)
                page.screenshot(path=out / "widget-full-size.png")
            page.close()
            return path


def shoot_edit(out: Path, tmp: Path) -> Path:
    """Screenshot an edit in the full-size view, its before/after slider half way, against the stand-in
    Kontext Space (which inverts the red of its input: a real edit would follow the prompt)."""
    from support.picture import render_picture

    source = tmp / "harbour.png"
    render_picture("a harbour at noon", 11, 1024, 768).save(source)
    process, space = start_standin(tmp, script="standin_edit_space.py")
    try:
        root = tmp / "edit-lab"
        root.mkdir()
        cell = f"from flux_widget import FluxWidget\nw = FluxWidget({space!r})\nw.add_image({str(source)!r})\nw"
        write_notebook(root / "edit.ipynb", [cell])
        with jupyter_server(root, {}) as url, browser() as chromium:
            page = chromium.new_page(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
            widget = NotebookPage(page, url).open_widget("edit.ipynb", workspace="shot-edit")
            widget.get_by_label("Prompt", exact=True).fill("invert the red")
            widget.get_by_role("button", name="Generate").click()
            expect_count(history_items(widget), 1)
            widget.get_by_role("button", name="View full size: invert the red").click()
            page.get_by_role("slider", name="Before and after").wait_for(timeout=10_000)
            page.wait_for_timeout(500)
            path = out / "widget-edit.png"
            page.screenshot(path=path)
            page.close()
            return path
    finally:
        stop(process)


def main() -> None:
    """Make every screenshot (or ``--only`` one) into ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--only", default="", help="e.g. light-1280, or edit")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        process, space = start_standin(Path(tmp))
        try:
            for theme, width, batch in SHOTS:
                if args.only and args.only != f"{theme}-{width}":
                    continue
                print(shoot(args.out, space, theme, width, batch))
        finally:
            stop(process)
        if args.only in ("", "edit"):
            print(shoot_edit(args.out, Path(tmp)))


if __name__ == "__main__":
    main()
