"""JupyterHub: give each student of a kling_notebook class their own key, never the account's.

Add this to ``jupyterhub_config.py`` on the hub host. ``KLING_CLASS_KEYS`` names the keys file
that ``kling-notebook class create --students ada,grace --keys-file PATH`` wrote (student names
are the hub's user names); keep it readable by the hub's user only (it is created mode 0600).
Each student's server starts with their key in ``AIMLAPI_KEY``, which ``kling_notebook.connect()``
and the panel read; it never sits in a notebook. The management key is never passed on. A user
with no key in the file gets none, and so demo mode. Tested by
``tests/frontends/test_jupyterhub_config.py``.
"""

import csv
import os

KLING_CLASS_KEYS = os.environ.get("KLING_CLASS_KEYS", "/srv/jupyterhub/kling-class-keys.csv")


def kling_class_keys(path=KLING_CLASS_KEYS):
    """The keys file as {student: key}."""
    with open(path, newline="", encoding="utf-8") as keys:
        return {row["student"]: row["key"] for row in csv.DictReader(keys)}


def give_kling_key(spawner):
    """Spawner.pre_spawn_hook: the student's own key in their server's environment."""
    spawner.environment.pop("AIMLAPI_MANAGEMENT_KEY", None)  # the teacher's, never a student's
    key = kling_class_keys().get(spawner.user.name)
    if key:
        spawner.environment["AIMLAPI_KEY"] = key


c.Spawner.pre_spawn_hook = give_kling_key  # noqa: F821  (``c`` is JupyterHub's config object)
