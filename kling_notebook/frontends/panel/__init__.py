"""The notebook panel: ``KlingPanel()`` as the last line of a cell shows the whole tool.

One anywidget model per panel (so it also runs where only anywidgets do, such as marimo): plain
state holders (the image, the request controls, the rows of jobs, the unfinished list) make the
JSON the view draws, and the view sends edits and clicks back as messages. A job or a batch
shown on its own is a :class:`JobsView` on the same view code. Generation itself always goes
through :mod:`kling_notebook.runtime.jobs`.
"""

from ._image import DEMO_IMAGE, ImagePicker, ImageSource
from ._panel import KlingPanel
from ._progress import JobsView
from ._result import ResultView, code_for

__all__ = ["KlingPanel", "JobsView", "ResultView", "ImagePicker", "ImageSource", "DEMO_IMAGE", "code_for"]
