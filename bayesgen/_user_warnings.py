"""Warnings that point at the user's line, however deep in bayesgen they are raised.

A fixed ``stacklevel`` is right for one call path only: the same check runs under
``bg.Model(...)``, under ``bg.AnimalModel(...)`` (one frame deeper) and under
``cross_validate`` (several), and a level past the top of the stack is reported as
``sys:1``. ``warn_user`` counts the frames inside the bayesgen package instead and points
the warning at the first frame outside it: the user's script, notebook cell or test.
"""

from __future__ import annotations

import os
import sys
import warnings

#: Files under this directory are bayesgen's own frames.
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_stacklevel() -> int:
    """The ``stacklevel`` that, passed to ``warnings.warn`` by the caller of this function,
    names the first frame outside bayesgen (1 = the caller itself)."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    return level


def warn_user(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn(message, category)`` attributed to the user's line (see the module docstring)."""
    warnings.warn(message, category, stacklevel=user_stacklevel())
