"""The notebook panel: ``KlingPanel()`` as the last line of a cell shows the whole tool.

Small views, one job each: the image picker, the request controls, the key field, one progress
row per job (reusable for any :class:`~kling_notebook.runtime.jobs.Job`), the result player, and the list
of unfinished generations. Generation itself always goes through :mod:`kling_notebook.runtime.jobs`.
"""

from ._image import DEMO_IMAGE, ImagePicker, ImageSource
from ._panel import KlingPanel
from ._progress import ProgressRow
from ._result import ResultView, code_for

__all__ = ["KlingPanel", "ProgressRow", "ResultView", "ImagePicker", "ImageSource", "DEMO_IMAGE", "code_for"]
