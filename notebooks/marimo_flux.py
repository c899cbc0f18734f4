"""flux-widget in marimo: ``marimo edit notebooks/marimo_flux.py`` (or ``marimo run`` for an app)."""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import marimo as mo

    from flux_widget import FluxWidget

    return FluxWidget, mo


@app.cell
def _(FluxWidget, mo):
    # mo.ui.anywidget wraps the widget; its controls become flux.value, which other cells can read.
    flux = mo.ui.anywidget(FluxWidget(steps=4))
    flux
    return (flux,)


@app.cell
def _(flux, mo):
    # This cell re-runs whenever a control changes in the browser (prompt, size, steps, seed, …).
    settings = flux.value
    mo.md(f"Next: **{settings['prompt'] or '(no prompt yet)'}** at {settings['width']}×{settings['height']}")
    return


@app.cell
def _(flux):
    # The images themselves stay in Python: flux.widget is the FluxWidget.
    flux.widget.generations
    return


if __name__ == "__main__":
    app.run()
