"""``kling_notebook.display``: how videos are shown, per notebook front end.

The front end is detected (JupyterLab/Notebook 7, Voila, Colab, VS Code, marimo, or a terminal)
and mapped to a way of showing a finished video::

    from kling_notebook import display
    display.frontend()             # "jupyter", "voila", "colab", "vscode", "marimo" or "terminal"
    display.concrete_mode()        # "file" (the front end's file route), "embed" or "url"
    display.set_display_mode("embed")   # or $KLING_NOTEBOOK_DISPLAY=embed; "auto" goes back
    display.set_frontend("colab")       # or $KLING_NOTEBOOK_FRONTEND=colab, when detection is wrong

See :mod:`kling_notebook.frontends.display` for what each mode does where.
"""

from __future__ import annotations

from .frontends.detect import FRONTEND_ENV_VAR, Frontend, detected_frontend, frontend, set_frontend
from .frontends.display import (
    EMBED_LIMIT,
    ENV_VAR,
    FRONTEND_MODES,
    ConcreteMode,
    DisplayMode,
    VideoSource,
    concrete_mode,
    get_display_mode,
    served_url,
    set_display_mode,
    video_source,
)

__all__ = [
    "Frontend",
    "frontend",
    "detected_frontend",
    "set_frontend",
    "FRONTEND_ENV_VAR",
    "DisplayMode",
    "ConcreteMode",
    "FRONTEND_MODES",
    "set_display_mode",
    "get_display_mode",
    "concrete_mode",
    "ENV_VAR",
    "EMBED_LIMIT",
    "VideoSource",
    "video_source",
    "served_url",
]
