r"""The location protocol: what a term with Gaussian location effects declares to the samplers.

A location term has L levels, each with c coefficients per trait (t traits). Its effects are
stored as :math:`\Theta` (L x ct), row l the level's vector :math:`\theta_l`, element
``coef * t + trait``; read as :math:`\tilde\Theta` (Lc x t, row ``level * c + coef``) they
multiply the design:

.. math:: F = Z\tilde\Theta \quad (\text{records} \times t),\qquad
          \mathrm{vec}(\Theta') \sim N(0,\; P^{-1} \otimes \Sigma),

Z (records x Lc) the design, P (L x L) the sparse precision among levels (I for iid levels,
:math:`A^{-1}` for a pedigree, :math:`K^{-1}` for a kernel) and :math:`\Sigma` (ct x ct) the
covariance of a level's coefficients and traits, under ``prior`` (a
``bayesgen.priors.VariancePrior``). Fixed effects are the case P = I with :math:`\Sigma`
flat (``level_precision()`` is None) or fixed (:math:`\tau^2 I`).

The samplers in ``bayesgen.sampler`` (joint and collapsed blocks, the translation and group
moves) and the classical solvers use nothing but this interface: the design, the level
precision, the prior, and getting and setting effects and covariances. A new location term
is a new class implementing it; no sampler changes.
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np
import scipy.sparse as sp

from ..kernels.random_effects import quadratic_form_matrix
from .base import Term
from .scaling import (
    CovarianceScaling,
    GaussianEffectsScaling,
    TraitCovarianceScaling,
    TraitGaussianEffectsScaling,
)

#: Largest number of levels whose precision the default ``level_precision_factor`` factorises densely.
DENSE_FACTOR_MAX_LEVELS = 4_000
#: Subgroups of GL(d) a group move can act by on a level's coefficients (see ``GroupAction``).
GROUPS = ("scalar", "diagonal", "full")


class LocationTerm(Term):
    """A term whose effects are Gaussian given their covariance (module docstring)."""

    #: Names of the c coefficients of a level (one coefficient: [None]).
    coefficient_names: list = [None]
    #: Apply the group move after the term's own update (see ``group_action``).
    expand: bool = True

    # ------------------------------------------------------------------ structure (fixed once bound)
    @property
    @abstractmethod
    def n_levels(self) -> int:
        """L."""

    @property
    def variance_name(self) -> str:
        """The name of :math:`\\Sigma` in the InferenceData and in ``bg.reml``'s results."""
        return f"sigma2_{self.name}"

    @property
    def n_coefficients(self) -> int:
        """c, the coefficients of one level per trait."""
        return len(self.coefficient_names)

    @property
    def covariance_dim(self) -> int:
        """ct, the size of :math:`\\Sigma`."""
        return self.n_coefficients * self.n_traits

    @property
    def free_covariance_elements(self) -> int:
        r"""The free elements of :math:`\Sigma` under its prior: d (diagonal) or d(d + 1)/2, d = ct."""
        d = self.covariance_dim
        return d if self.prior.diagonal else d * (d + 1) // 2

    @property
    def n_columns(self) -> int:
        """Lc, the columns of the design."""
        return self.n_levels * self.n_coefficients

    @abstractmethod
    def design(self) -> sp.csr_matrix:
        """Z (records x Lc), columns ``level * c + coef``; the same for every trait."""

    @abstractmethod
    def level_precision(self) -> sp.csr_matrix | None:
        """P (L x L, sorted CSR), or None for a flat prior on the effects."""

    def level_precision_factor(self) -> sp.spmatrix | None:
        r"""A sparse square root F (L x m) of the level precision, :math:`FF' = P`, or None.

        The perturbation sampler (``bayesgen.sampler.perturbation``) draws the prior part of its
        perturbation, :math:`(F \otimes \Sigma^{-1/2})z \sim N(0, P \otimes \Sigma^{-1})`, with it.
        Default: :math:`\mathrm{diag}(\sqrt{P_{ll}})` when P is diagonal (iid levels, a normal prior
        on fixed effects); the lower Cholesky factor of P (dense) when L is at most
        ``DENSE_FACTOR_MAX_LEVELS``; None otherwise (no cheap square root known) and for a flat
        prior. A term with a structured P overrides it (the pedigree's O(L) factor of
        :math:`A^{-1}`).
        """
        precision = self.level_precision()
        if precision is None:
            return None
        precision = sp.csr_matrix(precision)
        diagonal = precision.diagonal()
        if (precision - sp.diags(diagonal)).count_nonzero() == 0:
            if (diagonal < 0).any():
                raise ValueError(f"term {self.name!r}: its level precision has a negative diagonal entry.")
            return sp.diags(np.sqrt(diagonal), format="csc")
        if precision.shape[0] > DENSE_FACTOR_MAX_LEVELS:
            return None
        try:
            lower = np.linalg.cholesky(precision.toarray())
        except np.linalg.LinAlgError as err:
            raise ValueError(f"term {self.name!r}: its level precision is not positive definite ({err}).") from err
        return sp.csc_matrix(lower)

    def data_arrays(self) -> list:
        """Z and P (the design and the levels' precision: pedigree, kernel)."""
        return [a for a in (self.design(), self.level_precision()) if a is not None]

    def translation_covariates(self) -> np.ndarray | None:
        r"""(records x c) covariates of a level's coefficients, for the translation move.

        Non-None when the fit of record r is :math:`x_r'\theta_{l(r)}` with one level per
        record and one trait (``bayesgen.sampler.translation_move``).
        """
        return None

    def own_levels(self) -> np.ndarray | None:
        """Record -> its one level (one coefficient, one trait), for the integrated pointwise
        log-likelihood (``bayesgen.model.pointwise``); None when records load on several levels."""
        return None

    # ------------------------------------------------------------------ state
    @abstractmethod
    def effects(self, state: dict) -> np.ndarray:
        """:math:`\\Theta` (L x ct), C-contiguous; samplers modify it in place."""

    def effects_by_column(self, state: dict) -> np.ndarray:
        """:math:`\\tilde\\Theta` (Lc x t): a view of ``effects``."""
        return self.effects(state).reshape(self.n_columns, self.n_traits)

    def fit_of(self, effects: np.ndarray) -> np.ndarray:
        """The fit (records x t) of the given effects (L x ct)."""
        return np.asarray(self._design_for_fit() @ effects.reshape(self.n_columns, self.n_traits))

    def _design_for_fit(self) -> sp.csr_matrix:
        if getattr(self, "_design_cache", None) is None:
            self._design_cache = self.design()
        return self._design_cache

    def fitted(self, state: dict) -> np.ndarray:
        return self.fit_of(self.effects(state))

    def effect_covariance(self, state: dict) -> np.ndarray | None:
        """:math:`\\Sigma` (ct x ct) now, or None for flat effects."""
        return state.get("sigma2")

    @property
    def samples_covariance(self) -> bool:
        """Whether :math:`\\Sigma` is sampled (a prior that is neither flat nor fixed)."""
        prior = getattr(self, "prior", None)
        return prior is not None and prior.sampled

    def set_covariance(self, rng: np.random.Generator, state: dict, value: np.ndarray) -> None:
        """Set :math:`\\Sigma` (from a step that drew it with the prior's auxiliary variables
        integrated out), then draw those given it (an exact Gibbs step)."""
        state["sigma2"][:] = value
        self.prior.refresh_aux(rng, state["sigma2"], state["prior_aux"])

    def covariance_log_density(self, state: dict, value: np.ndarray) -> float:
        """log p(value | the prior's auxiliary variables) (their current values)."""
        return self.prior.log_density(value, state["prior_aux"])

    def draw_covariance(self, rng: np.random.Generator, state: dict, sum_squares=None) -> None:
        r""":math:`\Sigma \mid \Theta` from the prior's conjugate update with :math:`SS = \Theta'P\Theta`
        (ct x ct) and L vectors (``sum_squares``: SS if already known)."""
        if not self.samples_covariance:
            return
        if sum_squares is None:
            prec = self._precision_arrays()
            sum_squares = quadratic_form_matrix(self.effects(state), *prec)
        state["sigma2"][:] = self.prior.draw_posterior(rng, sum_squares, self.n_levels, state["prior_aux"])

    def _precision_arrays(self):
        if getattr(self, "_prec_cache", None) is None:
            p = sp.csr_matrix(self.level_precision())
            p.sort_indices()
            self._prec_cache = (p.indptr.astype(np.int64), p.indices.astype(np.int64), p.data.astype(np.float64))
        return self._prec_cache

    # ------------------------------------------------------------------ the group move
    def group_action(self):
        """The action the group move (``bayesgen.sampler.group_move``) applies after this
        term's update, or None: with ``expand`` and a sampled covariance."""
        if not (self.expand and self.samples_covariance):
            return None
        return LocationGroupAction(self)

    def trait_group_action(self, trait: int):
        """One trait's coordinate of this term's diagonal group action (``TraitGroupAction``), for
        the marginal group move of a threshold trait among several; None without a sampled
        covariance or with several coefficients per trait."""
        if not (self.samples_covariance and self.n_coefficients == 1 and self.n_traits >= 2):
            return None
        return TraitGroupAction(self, trait)

    def scale_action(self):
        r"""The scale move's view of this term: with a sampled covariance, its scalar group action
        (:math:`\Theta \to k\Theta`, :math:`\Sigma \to k^2\Sigma`); otherwise effects under a flat or
        fixed prior (``bayesgen.terms.scaling``)."""
        if self.samples_covariance:
            return CovarianceScaling(
                self.effects, self.effect_covariance, self.covariance_log_density, self.free_covariance_elements
            )

        def quadratic_form(state):
            return quadratic_form_matrix(self.effects(state), *self._precision_arrays())

        return GaussianEffectsScaling(self.effects, self.effect_covariance, quadratic_form)

    def trait_scale_action(self, trait: int):
        r"""The view of the scale move of trait ``trait`` (one coefficient per trait): its effects'
        column by k, with a sampled covariance its row and column by k (``bayesgen.terms.scaling``)."""
        if self.n_coefficients != 1 or self.n_traits < 2:
            return None
        if self.samples_covariance:
            return TraitCovarianceScaling(
                self.effects, self.effect_covariance, self.covariance_log_density, trait, bool(self.prior.diagonal)
            )

        def quadratic_form(state):
            return quadratic_form_matrix(self.effects(state), *self._precision_arrays())

        return TraitGaussianEffectsScaling(self.effects, self.effect_covariance, quadratic_form, trait)


class LocationGroupAction:
    r"""The group move of a location term: :math:`\theta_l \to M\theta_l` for every level, :math:`\Sigma \to M\Sigma M'`.

    M runs over a subgroup of GL(d), d = ct, parametrised linearly, :math:`M = \sum_j m_j E_j`:
    ``"scalar"`` (M = kI, k > 0; the default for d = 1), ``"diagonal"``
    (:math:`M = \mathrm{diag}(k)`, k > 0: a diagonal :math:`\Sigma`) or ``"full"`` (any
    nonsingular M). The fit moves linearly, :math:`F(m) = \sum_j m_j\,\mathrm{fit}(\Theta E_j')`
    (``basis_fits``), so the move's proposal is Gaussian (``bayesgen.sampler.group_move``). What
    remains of the target (Liu & Sabatti 2000's generalised Gibbs with the left Haar measure
    h(m)) is, with L levels: the effects' Jacobian :math:`|\det M|^L` cancels their prior's
    :math:`|\det M|^{-L}`, so

    .. math:: f(m) = p(M\Sigma M' \mid a)\; J_\Sigma(M)\; h(m),

    p the prior density given its auxiliary variables a (held fixed), :math:`J_\Sigma` the
    Jacobian of :math:`\Sigma \to M\Sigma M'` on its free elements: ``full``:
    :math:`J_\Sigma h = |\det M|^{d+1}|\det M|^{-d}`; ``diagonal``: :math:`\prod_a k_a^{n_a - 1}`
    with :math:`n_a` = d + 1 (unstructured :math:`\Sigma`) or 2 (diagonal); ``scalar``:
    :math:`k^{2n - 1}`, n the free elements of :math:`\Sigma`.
    """

    def __init__(self, term: LocationTerm, kind: str | None = None):
        d = term.covariance_dim
        prior = term.prior
        if kind is None:
            kind = "scalar" if d == 1 else ("diagonal" if prior.diagonal else "full")
        if kind not in GROUPS:
            raise ValueError(f"group must be one of {GROUPS}, got {kind!r}.")
        if kind == "full" and prior.diagonal:
            raise ValueError("The full group would make a diagonal covariance non-diagonal.")
        self.term, self.kind, self.dim = term, kind, d
        if kind == "scalar":
            self.generators = [np.eye(d)]
        elif kind == "diagonal":
            self.generators = [np.diag(np.eye(d)[a]) for a in range(d)]
        else:
            self.generators = [np.outer(np.eye(d)[a], np.eye(d)[b]) for a in range(d) for b in range(d)]
        self.identity = np.array(
            [1.0] if kind == "scalar" else (np.ones(d) if kind == "diagonal" else np.eye(d).ravel())
        )
        free_per_row = 2 if prior.diagonal else d + 1
        self._power = {
            "scalar": 2 * term.free_covariance_elements - 1,
            "diagonal": free_per_row - 1,
            "full": 1,
        }[kind]
        self.name = term.name

    def matrix(self, m: np.ndarray) -> np.ndarray:
        if self.kind == "scalar":
            return m[0] * np.eye(self.dim)
        if self.kind == "diagonal":
            return np.diag(m)
        return m.reshape(self.dim, self.dim)

    def basis_fits(self, state: dict) -> np.ndarray:
        """(s x records x t): the fit of :math:`\\Theta E_j'` for each generator :math:`E_j`."""
        theta = self.term.effects(state)
        if self.kind == "scalar":  # E = I: the term's fit itself (Theta I' is Theta exactly)
            return self.term.fit_of(theta)[None]
        return np.stack([self.term.fit_of(theta @ e.T) for e in self.generators])

    def log_factor(self, state: dict, m: np.ndarray) -> float:
        """log f(m) of the class docstring; -inf outside the group."""
        if self.kind == "scalar":
            return self._scalar_log_factor(state, m)
        matrix = self.matrix(m)
        if self.kind == "full":
            sign, log_det = np.linalg.slogdet(matrix)
            if sign == 0:
                return -np.inf
            jacobian = self._power * log_det
        else:
            k = np.asarray(m, dtype=np.float64)
            if (k <= 0).any():
                return -np.inf
            jacobian = self._power * float(np.log(k).sum())
        sigma = self.term.effect_covariance(state)
        moved = matrix @ sigma @ matrix.T
        return self.term.covariance_log_density(state, 0.5 * (moved + moved.T)) + jacobian

    def _scalar_log_factor(self, state: dict, m: np.ndarray) -> float:
        """``log_factor`` for M = kI without the matrices: (kI) Sigma (kI)' is (k Sigma) k elementwise,
        the same floating-point values (it runs every iteration of every small model)."""
        k = np.asarray(m, dtype=np.float64)
        if k[0] <= 0:
            return -np.inf
        jacobian = self._power * float(np.log(k).sum())
        moved = (k[0] * self.term.effect_covariance(state)) * k[0]
        return self.term.covariance_log_density(state, 0.5 * (moved + moved.T)) + jacobian

    def apply(self, state: dict, m: np.ndarray) -> None:
        """Effects and covariance moved by M (the caller updates the residual)."""
        matrix = self.matrix(m)
        theta = self.term.effects(state)
        theta[:] = theta @ matrix.T
        sigma = state["sigma2"]
        moved = matrix @ sigma @ matrix.T
        sigma[:] = 0.5 * (moved + moved.T)


class TraitGroupAction:
    r"""Trait b's coordinate of a location term's diagonal group action, :math:`M = \mathrm{diag}(1, .., k, .., 1)`:
    trait b's effects by k and :math:`\Sigma`'s row and column b by k, with the diagonal group's
    :math:`f` (``LocationGroupAction``: the prior at :math:`M\Sigma M'`, the Jacobian and the Haar
    measure of that coordinate). A scalar action (identity [1]) for the moves that take one: the
    marginal group move of a threshold trait among several (``bayesgen.likelihoods.mixed``)."""

    kind = "scalar"
    identity = np.array([1.0])

    def __init__(self, term: LocationTerm, trait: int):
        self._diagonal = LocationGroupAction(term, kind="diagonal")
        self.trait = trait
        self.name = f"{term.name}_{term.traits[trait]}"

    def _coordinates(self, m: np.ndarray) -> np.ndarray:
        out = np.ones(self._diagonal.dim)
        out[self.trait] = np.asarray(m, dtype=np.float64)[0]
        return out

    def basis_fits(self, state: dict) -> np.ndarray:
        """(1 x records x t): the fit of trait b's effects alone."""
        theta = self._diagonal.term.effects(state)
        return self._diagonal.term.fit_of(theta @ self._diagonal.generators[self.trait].T)[None]

    def log_factor(self, state: dict, m: np.ndarray) -> float:
        return self._diagonal.log_factor(state, self._coordinates(m))

    def apply(self, state: dict, m: np.ndarray) -> None:
        self._diagonal.apply(state, self._coordinates(m))
