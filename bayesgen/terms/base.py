"""The term protocol: what every part of the linear predictor provides to the driver.

A model is a list of terms (fixed effects, iid random effects, the animal effect, marker
effects) plus the residual. The driver knows nothing else about them: it calls
``init_state``, then ``step`` once per iteration, ``fitted`` to rebuild the residual,
and ``record`` to store draws whose names, dims and coords ``variables`` declared.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..variable import Variable


@dataclass
class BindContext:
    """What a term needs to know about the records when it is attached to a model.

    ``frame`` holds one row per record (phenotype missing or not); ``observed`` is the
    mask of records with a phenotype; ``default_share`` is the prior mode a random
    term's variance gets by default (see ``bayesgen.priors.defaults``).
    """

    frame: pd.DataFrame
    observed: np.ndarray
    phenotypic_variance: float
    default_share: float

    @property
    def weights(self) -> np.ndarray:
        return self.observed.astype(np.float64)


class Term(ABC):
    """One additive part of the linear predictor, with its parameters and full conditionals."""

    #: Name used for recorded variables (``sigma2_<name>``, dim ``<name>_level``, ...).
    name: str
    #: Whether the term's variance counts as genetic in ``h2``.
    genetic: bool = False
    #: Whether the term has a variance component (and so a share of the default prior).
    has_variance: bool = True

    @abstractmethod
    def bind(self, context: BindContext) -> None:
        """Attach the term to the records (design, incidence, default priors)."""

    @abstractmethod
    def variables(self) -> list[Variable]:
        """The quantities this term records per draw."""

    @abstractmethod
    def init_state(self, rng: np.random.Generator) -> dict:
        """Starting values; random where that helps chains start apart."""

    @abstractmethod
    def step(self, rng: np.random.Generator, state: dict, resid: np.ndarray, sigma2_e: float) -> dict:
        """One Gibbs update of the term's parameters given the residual.

        ``resid`` holds y - (linear predictor) for every record and is kept consistent
        in place: effects are added back, redrawn, and subtracted.
        """

    @abstractmethod
    def fitted(self, state: dict) -> np.ndarray:
        """The term's contribution to the linear predictor of every record."""

    @abstractmethod
    def record(self, state: dict, resid: np.ndarray) -> dict:
        """Values of the declared variables for the current state."""

    def variance(self, state: dict) -> float:
        """The term's variance component (for ``h2``); 0 for terms without one."""
        return 0.0

    def describe(self) -> dict:
        """A JSON-able description of the term and its priors, for the InferenceData attrs."""
        return {"term": type(self).__name__, "name": self.name}

    def priors(self) -> dict:
        """Priors keyed by the recorded parameter they apply to (``sigma2_a``, ``alpha``, ...)."""
        return {}
