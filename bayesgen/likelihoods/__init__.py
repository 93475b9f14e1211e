"""Likelihoods: what the working response is and how it relates to the data (see ``base``).

``FAMILIES`` maps the ``family=`` names of ``bg.Model`` to their classes; a new likelihood is
a new module here implementing ``Likelihood`` and one entry in it.
"""

from .base import Likelihood
from .gaussian import Gaussian

FAMILIES = {Gaussian.family: Gaussian}

__all__ = ["FAMILIES", "Gaussian", "Likelihood"]
