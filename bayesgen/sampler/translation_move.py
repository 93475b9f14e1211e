r"""Translation move: fixed effects and the mean of a random term's effects, shifted together.

A random term whose coefficients sit on covariates that the fixed design also holds (a
random intercept beside the fixed intercept, a random slope on ``Days`` beside the fixed
``Days``) makes the likelihood flat along one direction of each pair: adding :math:`\delta_c`
to the fixed coefficient :math:`\beta_{j(c)}` and :math:`-\delta_c` to every level's
coefficient :math:`u_{lc}` leaves every record's linear predictor unchanged, since
:math:`X_{\cdot j(c)} = x_{\cdot c}`. Single-site updates (β given U, then U given β) move
along it only slowly: β trades off against the mean of the levels' coefficients.

The move is a generalised Gibbs step on the translation group (Liu & Sabatti 2000): the
group acts by :math:`(\beta, U) \mapsto (\beta + E\delta,\; U - 1\delta')`, with unit
Jacobian and Lebesgue (Haar) measure, so drawing :math:`\delta` with density proportional
to the posterior at the moved point leaves the posterior invariant. Only the priors depend
on :math:`\delta`. With :math:`\mathrm{vec}(U') \sim N(0, P^{-1} \otimes \Sigma)` (P the prior
precision among levels, :math:`\Sigma` the q x q covariance of a level's coefficients) and
:math:`\delta` nonzero on the matched coefficients S only,

.. math:: -2\log p = s\,\delta_S'(\Sigma^{-1})_{SS}\delta_S - 2\delta_S'(\Sigma^{-1}U'P1)_S
          + \|\beta_J + \delta_S\|^2/\tau^2 + \text{const},\qquad s = 1'P1,

(the last term only for a normal prior :math:`N(0, \tau^2 I)` on β), so
:math:`\delta_S \sim N(Q^{-1}b,\; Q^{-1})` with
:math:`Q = s(\Sigma^{-1})_{SS} + I/\tau^2` and :math:`b = (\Sigma^{-1}U'P1)_S - \beta_J/\tau^2`,
drawn exactly. For iid levels (P = I) the mean is the levels' average coefficient vector
(shrunk toward :math:`-\beta_J` by a proper prior). Cost O(levels q + q^3) per iteration;
the residual does not change.
"""

from __future__ import annotations

import numpy as np

from ..terms.location import LocationTerm
from .context import StepContext
from .update_block import UpdateBlock


def matched_columns(fixed_design: np.ndarray, covariates: np.ndarray) -> list[tuple[int, int]]:
    """Pairs (fixed column j, coefficient c) with identical columns over all records (first match per c)."""
    pairs, used = [], set()
    for c in range(covariates.shape[1]):
        for j in range(fixed_design.shape[1]):
            if j not in used and np.array_equal(fixed_design[:, j], covariates[:, c]):
                pairs.append((j, c))
                used.add(j)
                break
    return pairs


class TranslationMove(UpdateBlock):
    r"""Update block: the exact translation move between a fixed term and a random term (see module).

    ``fixed_index`` / ``term_index``: positions of the two location terms in the model; the
    fixed one has identity level precision or none (flat) and a fixed covariance
    :math:`\tau^2 I` or none; ``pairs``: (fixed column, coefficient) pairs whose columns are identical.
    """

    def __init__(
        self, fixed_index: int, fixed: LocationTerm, term_index: int, term: LocationTerm, pairs: list[tuple[int, int]]
    ):
        if not pairs:
            raise ValueError(f"No fixed column of {fixed.name!r} matches a coefficient of {term.name!r}.")
        self.fixed_index, self.fixed = fixed_index, fixed
        self.term_index, self.term = term_index, term
        self.pairs = list(pairs)
        self._fixed_columns = np.array([j for j, _ in pairs], dtype=np.int64)
        self._coefficients = np.array([c for _, c in pairs], dtype=np.int64)
        # P1 and s = 1'P1: constant for the model.
        self._precision_sum = np.asarray(term.level_precision().sum(axis=1)).ravel()
        self._total_precision = float(self._precision_sum.sum())

    def info_variables(self) -> list:
        return []

    def conditional(self, states: list):
        r"""Mean and covariance of :math:`\delta_S` given the rest (the Gaussian of the module docstring)."""
        fixed_state = states[self.fixed_index]
        beta = self.fixed.effects(fixed_state)[:, 0]
        term_state = states[self.term_index]
        sel = self._coefficients
        sigma_inv = np.linalg.inv(self.term.effect_covariance(term_state))
        linear = (sigma_inv @ (self.term.effects(term_state).T @ self._precision_sum))[sel]
        precision = self._total_precision * sigma_inv[np.ix_(sel, sel)]
        fixed_covariance = self.fixed.effect_covariance(fixed_state)
        if fixed_covariance is not None:
            tau2 = float(fixed_covariance[0, 0])
            precision = precision + np.eye(sel.size) / tau2
            linear = linear - beta[self._fixed_columns] / tau2
        covariance = np.linalg.inv(precision)
        return covariance @ linear, 0.5 * (covariance + covariance.T)

    def step(self, rng, states: list, block_state: dict, ctx: StepContext) -> dict:
        mean, covariance = self.conditional(states)
        delta = mean + np.linalg.cholesky(covariance) @ rng.standard_normal(mean.size)
        self.fixed.effects(states[self.fixed_index])[self._fixed_columns, 0] += delta
        self.term.effects(states[self.term_index])[:, self._coefficients] -= delta
        return {}

    def describe(self) -> dict:
        names = self.term.coefficient_names
        return {
            "block": "translation",
            "fixed": self.fixed.name,
            "term": self.term.name,
            "pairs": [
                [self.fixed.coords()[j], names[c] if names[c] is not None else "(Intercept)"] for j, c in self.pairs
            ],
        }


def translation_moves(model, joint_indices=()) -> list[TranslationMove]:
    """The translation moves of a one-trait model.

    One move per (random term, fixed term) pair with matched columns, except when a joint
    location block already draws both terms together (the move would add nothing there). A
    random term is one whose ``translation_covariates`` are declared (with a prior on its
    effects); a fixed term a location term without a variance component (``has_variance``
    False) whose levels are independent. A random term is paired with the first fixed term
    that matches any of its coefficients.
    """
    if model.n_traits != 1:
        return []
    joint = set(joint_indices)
    locations = [(k, t) for k, t in enumerate(model.terms) if isinstance(t, LocationTerm)]
    fixed_terms = [(k, t) for k, t in locations if not t.has_variance]
    moves = []
    for k, term in locations:
        covariates = term.translation_covariates()
        if covariates is None or term.level_precision() is None:
            continue
        for f, fixed in fixed_terms:
            if f in joint and k in joint:
                continue
            pairs = matched_columns(fixed.design().toarray(), covariates)
            if pairs:
                moves.append(TranslationMove(f, fixed, k, term, pairs))
                break
    return moves
