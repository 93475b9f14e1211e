r"""What a term declares to the scale move: how its part of the target changes when everything scales.

The scale move (``bayesgen.sampler.scale_move``) multiplies every location effect, every
marker effect and the working response by one k > 0, every (co)variance by :math:`k^2`
(and the likelihood's own scale-carrying parameters, e.g. a threshold trait's cut-points, by
k). Each term answers three questions about its share of the target at the moved point,
measured with dk/k (the Haar measure, counted once by the move):

* ``power``: the exponent a of :math:`k^a` it contributes through Jacobians that nothing
  cancels (e.g. effects under a flat prior: one k per effect);
* ``quadratic``: Q of a factor :math:`\exp(-k^2 Q/2)` (effects under a fixed covariance,
  the Gaussian residual);
* ``log_factor(state, k)``: the rest, a log density in k (a sampled covariance's prior at
  :math:`k^2\Sigma` with its Jacobian).

Then ``apply(state, k)`` moves the term's own state (the move rescales the residual).

A threshold trait among several (``bayesgen.likelihoods.mixed``) has a scale move of its own,
acting on that trait only: the trait's effects by k and each covariance's row and column of the
trait by k (``Term.trait_scale_action``, the ``Trait...Scaling`` classes below).
"""

from __future__ import annotations

import numpy as np


class Scaling:
    """The default answers: no power, no quadratic, a flat rest; ``apply`` is the term's own."""

    def power(self, state: dict) -> float:
        return 0.0

    def quadratic(self, state: dict, ctx) -> float:
        return 0.0

    def log_factor(self, state: dict, k: float) -> float:
        return 0.0

    def apply(self, state: dict, k: float) -> None:
        raise NotImplementedError


class GroupScaling(Scaling):
    r"""A term's scalar group action (``group_action``, identity [1]) seen by the scale move.

    The group action's ``log_factor`` is f(k) with the Haar measure dk/k of its own move
    (``bayesgen.sampler.group_move``): the prior of the scale parameter at the moved value,
    the Jacobian, times :math:`k^{-1}`. The scale move counts the Haar measure once for all
    terms, so this term's rest is :math:`f(k)\,k`.
    """

    def __init__(self, action):
        if getattr(action, "kind", "scalar") != "scalar" or not np.array_equal(action.identity, [1.0]):
            raise ValueError("GroupScaling needs a scalar group action with identity 1.")
        self.action = action

    def log_factor(self, state: dict, k: float) -> float:
        return float(self.action.log_factor(state, np.array([k]))) + float(np.log(k))

    def apply(self, state: dict, k: float) -> None:
        self.action.apply(state, np.array([k]))


class CovarianceScaling(Scaling):
    r"""Effects :math:`\Theta` with a sampled covariance :math:`\Sigma` (prior p given its auxiliary
    variables, held fixed): :math:`\Theta \to k\Theta`, :math:`\Sigma \to k^2\Sigma`. The effects'
    Jacobian cancels their prior's determinant; what remains is :math:`p(k^2\Sigma)` and the
    Jacobian :math:`k^{2m}` of the m free elements of :math:`\Sigma`."""

    def __init__(self, effects, covariance, log_density, free_elements: int):
        #: effects(state) -> Theta; covariance(state) -> Sigma (the state's array, moved in place);
        #: log_density(state, value) -> log p(value | the auxiliary variables).
        self._effects, self._covariance, self._log_density = effects, covariance, log_density
        self._power = 2.0 * free_elements

    def log_factor(self, state: dict, k: float) -> float:
        return float(self._log_density(state, (k * k) * self._covariance(state))) + self._power * float(np.log(k))

    def apply(self, state: dict, k: float) -> None:
        self._effects(state)[...] *= k
        self._covariance(state)[...] *= k * k


class GaussianEffectsScaling(Scaling):
    r"""Effects :math:`\Theta` under a flat prior (``covariance`` None) or a fixed one
    :math:`N(0, P^{-1} \otimes \Sigma)`: the Jacobian gives :math:`k^{n}` (n effects), the
    fixed prior :math:`\exp(-k^2\,\mathrm{tr}(\Sigma^{-1}\Theta'P\Theta)/2)`."""

    def __init__(self, effects, covariance, quadratic_form):
        #: effects(state) -> the array of effects; covariance(state) -> Sigma or None;
        #: quadratic_form(state) -> Theta'P Theta.
        self._effects, self._covariance, self._quadratic_form = effects, covariance, quadratic_form

    def power(self, state: dict) -> float:
        return float(self._effects(state).size)

    def quadratic(self, state: dict, ctx) -> float:
        covariance = self._covariance(state)
        if covariance is None:
            return 0.0
        return float(np.trace(np.linalg.solve(np.atleast_2d(covariance), self._quadratic_form(state))))

    def apply(self, state: dict, k: float) -> None:
        self._effects(state)[...] *= k


class TraitCovarianceScaling(Scaling):
    r"""One trait b of several (one coefficient per trait) under the trait's scale move: its
    effects :math:`\Theta_{\cdot b} \to k\Theta_{\cdot b}` and :math:`\Sigma \to D\Sigma D`,
    :math:`D = \mathrm{diag}(1, .., k, .., 1)` (row and column b). The effects' Jacobian
    :math:`k^L` cancels their prior's :math:`|D\Sigma D|^{-L/2}` and the quadratic form is
    unchanged; what remains is :math:`p(D\Sigma D)` and the Jacobian of :math:`\Sigma`'s free
    elements: :math:`k^{d+1}` (unstructured, d x d: :math:`\Sigma_{bb}` by :math:`k^2`, the d - 1
    covariances by k) or :math:`k^2` (diagonal)."""

    def __init__(self, effects, covariance, log_density, trait: int, diagonal: bool):
        self._effects, self._covariance, self._log_density = effects, covariance, log_density
        self.trait = trait
        self._diagonal = diagonal

    def _moved(self, covariance: np.ndarray, k: float) -> np.ndarray:
        value = covariance.copy()
        value[self.trait, :] *= k
        value[:, self.trait] *= k
        return value

    def log_factor(self, state: dict, k: float) -> float:
        covariance = self._covariance(state)
        power = 2.0 if self._diagonal else covariance.shape[0] + 1.0
        return float(self._log_density(state, self._moved(covariance, k))) + power * float(np.log(k))

    def apply(self, state: dict, k: float) -> None:
        self._effects(state)[..., self.trait] *= k
        covariance = self._covariance(state)
        covariance[...] = self._moved(covariance, k)


class TraitGaussianEffectsScaling(Scaling):
    r"""One trait b's effects :math:`\theta = \Theta_{\cdot b} \to k\theta` under a flat prior or a
    fixed one :math:`N(0, P^{-1} \otimes \Sigma)`: the Jacobian :math:`k^{L}` (L levels); with
    :math:`W = \Sigma^{-1}` and :math:`S = \Theta'P\Theta`, the prior's exponent
    :math:`-\mathrm{tr}(W D S D)/2` holds :math:`-k^2W_{bb}S_{bb}/2` (the quadratic) and
    :math:`-k\sum_{j \ne b} W_{bj}S_{bj}` (the rest; zero for a diagonal :math:`\Sigma`)."""

    def __init__(self, effects, covariance, quadratic_form, trait: int):
        self._effects, self._covariance, self._quadratic_form = effects, covariance, quadratic_form
        self.trait = trait

    def power(self, state: dict) -> float:
        return float(self._effects(state).shape[0])

    def _parts(self, state: dict):
        """(W_bb S_bb, sum_{j != b} W_bj S_bj), or None for flat effects."""
        covariance = self._covariance(state)
        if covariance is None:
            return None
        weight = np.linalg.inv(np.atleast_2d(covariance))[self.trait]
        cross = np.asarray(self._quadratic_form(state))[self.trait]
        b = self.trait
        return float(weight[b] * cross[b]), float(weight @ cross - weight[b] * cross[b])

    def quadratic(self, state: dict, ctx) -> float:
        parts = self._parts(state)
        return 0.0 if parts is None else parts[0]

    def log_factor(self, state: dict, k: float) -> float:
        parts = self._parts(state)
        return 0.0 if parts is None else -k * parts[1]

    def apply(self, state: dict, k: float) -> None:
        self._effects(state)[..., self.trait] *= k
