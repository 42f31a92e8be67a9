"""``python -m kling_notebook.emulator [--port 8000 ...]``."""

import sys

from ._cli import main

sys.exit(main())
