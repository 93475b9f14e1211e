"""A prior on a diagonal covariance matrix: one independent prior per diagonal element."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .base import VariancePrior


class DiagonalPrior(VariancePrior):
    r"""Independent priors on the diagonal of :math:`\Sigma = \mathrm{diag}(\sigma^2_1, \dots, \sigma^2_d)`.

    The covariance of uncorrelated coefficients (a random regression with
    ``structure="diag"``): element k has its own one-dimensional prior ``components[k]``
    (a :class:`ScaledInvChi2`, :class:`HalfT` or fixed value), so the density is the product
    :math:`\prod_k p_k(\sigma^2_k)` and, given m effect vectors with
    :math:`SS = \sum u u'`, each element's full conditional is its own prior's conjugate
    update from :math:`SS_{kk}` and m. Auxiliary variables are kept per element
    (``aux["components"][k]``). Off-diagonal elements are 0 and are never sampled.
    """

    diagonal = True

    def __init__(self, components: Sequence[VariancePrior | float | None]):
        components = list(components)
        if not components or not all(isinstance(p, VariancePrior) and p.dim in (1, None) for p in components):
            raise TypeError(f"DiagonalPrior takes a list of one-dimensional variance priors, got {components!r}.")
        self.components = components
        self.dim = len(components)
        self.sampled = any(p.sampled for p in components)

    @property
    def sampled_elements(self) -> list[bool]:
        """Which diagonal elements are sampled (the others are fixed)."""
        return [p.sampled for p in self.components]

    def init_aux(self, rng) -> dict:
        return {"components": [p.init_aux(rng) for p in self.components]}

    def initial_value(self, fallback) -> np.ndarray:
        fallback = np.asarray(fallback, dtype=np.float64).reshape(self.dim, self.dim)
        return np.diag([float(p.initial_value(fallback[k, k])[0, 0]) for k, p in enumerate(self.components)])

    def _per_element(self, aux):
        return aux["components"] if aux is not None else [None] * self.dim

    def draw_prior(self, rng, aux=None) -> np.ndarray:
        return np.diag([float(p.draw_prior(rng, a)[0, 0]) for p, a in zip(self.components, self._per_element(aux))])

    def draw_posterior(self, rng, sum_squares, count: int, aux=None) -> np.ndarray:
        ss = np.asarray(sum_squares, dtype=np.float64).reshape(self.dim, self.dim)
        return np.diag(
            [
                float(p.draw_posterior(rng, ss[k, k], count, a)[0, 0])
                for k, (p, a) in enumerate(zip(self.components, self._per_element(aux)))
            ]
        )

    def refresh_aux(self, rng, value, aux: dict) -> None:
        value = np.asarray(value, dtype=np.float64).reshape(self.dim, self.dim)
        for k, (p, a) in enumerate(zip(self.components, aux["components"])):
            p.refresh_aux(rng, value[k : k + 1, k : k + 1], a)

    def log_density(self, value, aux=None) -> float:
        value = np.asarray(value, dtype=np.float64).reshape(self.dim, self.dim)
        return float(
            sum(
                p.log_density(value[k : k + 1, k : k + 1], a) if p.sampled else 0.0
                for k, (p, a) in enumerate(zip(self.components, self._per_element(aux)))
            )
        )

    def log_density_gradient(self, value) -> np.ndarray:
        value = np.asarray(value, dtype=np.float64).reshape(self.dim, self.dim)
        return np.diag(
            [
                float(p.log_density_gradient(value[k : k + 1, k : k + 1])[0, 0]) if p.sampled else 0.0
                for k, p in enumerate(self.components)
            ]
        )

    @property
    def is_proper(self) -> bool:
        return all(p.is_proper for p in self.components if p.sampled)

    @property
    def improper_at_zero(self) -> bool:
        return any(p.sampled and p.improper_at_zero for p in self.components)

    def to_dict(self) -> dict:
        return {"family": "Diagonal", "components": [p.to_dict() for p in self.components]}

    def __repr__(self) -> str:
        return f"DiagonalPrior({self.components!r})"
