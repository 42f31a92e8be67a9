"""The Kling panel in marimo: ``marimo edit notebooks/marimo_app.py`` or ``marimo run notebooks/marimo_app.py``.

With no API key set it runs in demo mode (simulated videos from a local emulator, no credits used).
marimo shows anywidgets through ``mo.ui.anywidget``; finished videos are embedded in the page
(marimo does not serve the kernel's files), so the Download link works from any machine.
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Kling image to video")


@app.cell
def _():
    import marimo as mo

    from kling_notebook import KlingPanel

    return KlingPanel, mo


@app.cell
def _(KlingPanel, mo):
    panel = mo.ui.anywidget(KlingPanel(prompt="Mona Lisa puts on glasses with her hands."))
    panel
    return (panel,)


if __name__ == "__main__":
    app.run()
