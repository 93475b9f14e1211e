"""Likelihoods: what the working response is and how it relates to the data (see ``base``).

``FAMILIES`` maps the ``family=`` names of ``bg.Model`` to their classes; a new likelihood is
a new module here implementing ``Likelihood`` and one entry in it.
"""

from .base import Likelihood
from .censored import Censored
from .gaussian import Gaussian
from .threshold import Threshold

FAMILIES = {Gaussian.family: Gaussian, Threshold.family: Threshold, Censored.family: Censored}

__all__ = ["FAMILIES", "Censored", "Gaussian", "Likelihood", "Threshold"]
