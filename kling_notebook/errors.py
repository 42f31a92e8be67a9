"""The errors this package raises, all :class:`KlingError` subclasses (the public home of
:mod:`kling_notebook.domain.errors`): each says what happened and what to do next."""

from .domain import errors as _domain_errors
from .domain.errors import *  # noqa: F403

__all__ = list(_domain_errors.__all__)
