r"""A threshold trait among several under its own scale move (``bayesgen.sampler.scale_move``).

Threshold trait b of ``Mixed`` (residual variance fixed at 1, the threshold block
:math:`R_{BB} = I`) pins its own scale: its liabilities, effects and covariances move only as
far as each other let them. The move's group acts on trait b alone, by k > 0:

.. math:: \ell_b \to k\ell_b,\quad \tau_b \to k\tau_b,\quad C_{\cdot b} \to C_{\cdot b}/k,\quad
          R_{ff\cdot B} \text{ unchanged},

with :math:`C = R_{fB}R_{BB}^{-1} = R_{fB}` (the free traits' regression on the threshold
traits' residuals), so :math:`R_{ff} = R_{ff\cdot B} + CC'` and :math:`R_{fB} = C` at the moved
point; the terms move trait b's effects by k and their covariances' row and column b by k
(``Term.trait_scale_action``). Then the residuals factor as
:math:`p(e_B)\,p(e_f \mid e_B) = N(e_B; 0, I)\,N(e_f; Ce_B, R_{ff\cdot B})`, and at the moved point
:math:`e_b \to ke_b` while :math:`Ce_B` and so the second factor stay put. This likelihood's share:

* power: the Jacobian :math:`k^{n}` of trait b's n working values (liabilities and augmented
  missing ones) and :math:`k^{K-2}` of an ordinal trait's free cut-points;
* quadratic: :math:`\sum_r e_{rb}^2` (the first factor);
* rest: the prior of R given :math:`R_{BB} = I` at the moved point, of which only the matrix
  normal :math:`C \mid R_{ff\cdot B} \sim MN(\Psi_{fB}\Psi_{BB}^{-1}, R_{ff\cdot B}, \Psi_{BB}^{-1})`
  changes, :math:`-\mathrm{tr}(\Psi_{BB}(C - M)'R_{ff\cdot B}^{-1}(C - M))/2`, with the Jacobian
  :math:`k^{-f}` of column b's f entries (f free traits), and the cut-points' prior at
  :math:`k\tau_b`.
"""

from __future__ import annotations

import numpy as np

from ..terms.scaling import Scaling


class ThresholdTraitScaling(Scaling):
    """Threshold trait ``column`` (its position among ``likelihood.threshold_traits``) of a
    ``Mixed`` likelihood under its scale move (module docstring)."""

    def __init__(self, likelihood, column: int):
        self.likelihood = likelihood
        self.column = column
        self.trait = int(likelihood.threshold_traits[column])
        #: this trait's free cut-points within the state's ``cutpoints`` (empty when binary)
        self._cutpoints = likelihood._cutpoint_slice(column)
        self._ordinal = len(likelihood._thresholds[column].categories) > 2

    def power(self, state: dict) -> float:
        cutpoints = state["cutpoints"][self._cutpoints].size if self._ordinal else 0
        return float(self.likelihood.n_observed + cutpoints)

    def quadratic(self, state: dict, ctx) -> float:
        resid = ctx.resid[self.likelihood.observed_rows, self.trait]
        return float(np.dot(resid, resid))

    def _blocks(self, covariance: np.ndarray):
        """(C, R_ff.B) of the residual covariance (its threshold block I)."""
        free, thresholds = self.likelihood._free, self.likelihood.threshold_traits
        coefficient = covariance[np.ix_(free, thresholds)]
        return coefficient, covariance[np.ix_(free, free)] - coefficient @ coefficient.T

    def log_factor(self, state: dict, k: float) -> float:
        likelihood = self.likelihood
        out = 0.0
        if self._ordinal:
            out += likelihood._thresholds[self.column].log_cutpoint_prior(k * state["cutpoints"][self._cutpoints])
        free, thresholds = likelihood._free, likelihood.threshold_traits
        if free.size == 0:
            return out
        coefficient, conditional = self._blocks(state["sigma2_e"])
        coefficient = coefficient.copy()
        coefficient[:, self.column] /= k
        psi = likelihood.prior.scale
        psi_bb = psi[np.ix_(thresholds, thresholds)]
        mean = np.linalg.solve(psi_bb, psi[np.ix_(free, thresholds)].T).T
        deviation = coefficient - mean
        exponent = np.trace(psi_bb @ deviation.T @ np.linalg.solve(conditional, deviation))
        return out - 0.5 * float(exponent) - free.size * float(np.log(k))

    def apply(self, state: dict, k: float) -> None:
        state["y"][:, self.trait] *= k
        if self._ordinal:
            state["cutpoints"][self._cutpoints] *= k
        free, thresholds = self.likelihood._free, self.likelihood.threshold_traits
        if free.size == 0:
            return
        covariance = state["sigma2_e"]
        coefficient, conditional = self._blocks(covariance)
        coefficient[:, self.column] /= k
        covariance[np.ix_(free, free)] = conditional + coefficient @ coefficient.T
        covariance[np.ix_(free, thresholds)] = coefficient
        covariance[np.ix_(thresholds, free)] = coefficient.T
