"""Preallocated per-chain storage of draws (or running summaries) of declared variables."""

from __future__ import annotations

import numpy as np


class RunningMoments:
    """Welford's running mean and variance of a vector, for ``store="summary"``; with
    ``count_nonzero``, also how many draws of each element were not exactly 0 (the
    numerator of a posterior inclusion probability)."""

    def __init__(self, shape, count_nonzero: bool = False):
        self.count = 0
        self.mean = np.zeros(shape)
        self._m2 = np.zeros(shape)
        self.nonzero = np.zeros(shape, dtype=np.int64) if count_nonzero else None

    def add(self, value) -> None:
        self.count += 1
        delta = value - self.mean
        self.mean += delta / self.count
        self._m2 += delta * (value - self.mean)
        if self.nonzero is not None:
            self.nonzero += value != 0

    @property
    def sd(self) -> np.ndarray:
        if self.count < 2:
            return np.full_like(self.mean, np.nan)
        return np.sqrt(self._m2 / (self.count - 1))


class ChainStorage:
    """Draws of one chain: arrays of shape (draws, *variable.shape), keyed by (group, name).

    ``store``: "full" keeps every draw; "summary" keeps high-dimensional variables only as
    running mean and sd (and, for ``Variable.inclusion`` effects, the count of draws where
    each is not 0), and no pointwise log-likelihood; or a set of (group, name) keys
    of the high-dimensional variables to summarise, the others kept in full.
    """

    def __init__(self, variables, draws: int, store):
        if not isinstance(store, (set, frozenset)) and store not in ("full", "summary"):
            raise ValueError(f"store must be 'full' or 'summary', got {store!r}.")
        self.variables = {}
        self.draws = {}
        self.summaries = {}
        for v in variables:
            key = (v.group, v.name)
            summarise = key in store if isinstance(store, (set, frozenset)) else store == "summary"
            if summarise and v.high_dimensional:
                if v.group == "log_likelihood":
                    continue
                self.summaries[key] = RunningMoments(v.shape, count_nonzero=v.inclusion)
            else:
                self.draws[key] = np.empty((draws, *v.shape))
            self.variables[key] = v
        self.n = 0

    @property
    def wanted(self) -> set:
        """The (group, name) keys this storage keeps, in full or summarised (for ``Gibbs.record``)."""
        return set(self.draws) | set(self.summaries)

    def write(self, values: dict) -> None:
        for key, array in self.draws.items():
            array[self.n] = values[key]
        for key, moments in self.summaries.items():
            moments.add(values[key])
        self.n += 1
