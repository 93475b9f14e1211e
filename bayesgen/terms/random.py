"""Random effects with a sparse prior precision; iid by default."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._validation import normalize_id, preview, require_columns
from ..kernels.random_effects import quadratic_form, sweep_random_effects
from ..priors.defaults import default_variance_prior
from ..priors.scaled_inv_chi2 import ScaledInvChi2, as_variance_prior
from .base import BindContext, Term, Variable


class Random(Term):
    r"""An iid random effect of the levels of a column: :math:`u \sim N(0, \sigma^2_u I)`.

    Parameters
    ----------
    column : str
        Column of the data holding each record's level (herd, birth year, mother, ...).
    variance : ScaledInvChi2, float or None
        Prior on :math:`\sigma^2_u`; a float fixes it; ``None`` takes the default prior
        (``bayesgen.priors.defaults``).
    name : str, optional
        Defaults to ``column``. Draws are recorded as ``<name>`` (dim ``<name>_level``)
        and ``sigma2_<name>``.
    expand : bool, default True
        After each Gibbs update, rescale (u, sigma2_u) jointly (see ``rescale_move``):
        it leaves the posterior unchanged and speeds up mixing of the variance.

    Effects are drawn one level at a time (``sweep_random_effects``); the variance from
    :math:`\sigma^2_u \mid u \sim \text{Scale-inv-}\chi^2(\nu + q, (\nu S^2 + u'Pu)/(\nu + q))`
    with P the prior precision (I here) and q the number of levels.
    """

    genetic = False

    def __init__(self, column: str, variance=None, name: str | None = None, expand: bool = True):
        self.column = column
        self.name = name or column
        self.variance_prior_arg = variance
        self.expand = expand

    # Names of what is recorded; the animal term overrides them.
    @property
    def effect_name(self) -> str:
        return self.name

    @property
    def variance_name(self) -> str:
        return f"sigma2_{self.name}"

    @property
    def level_dim(self) -> str:
        return f"{self.name}_level"

    def _levels(self, record_levels: list) -> tuple[list, sp.csr_matrix]:
        """The levels (coords) and the prior precision among them."""
        levels = sorted(set(record_levels))
        return levels, sp.identity(len(levels), format="csr")

    def bind(self, context: BindContext) -> None:
        require_columns(context.frame, [self.column], "data")
        record_levels = [normalize_id(v) for v in context.frame[self.column].tolist()]
        missing = [label for label, v in zip(context.frame.index, record_levels) if v is None]
        if missing:
            raise ValueError(f"Column {self.column!r} has missing levels in rows {preview(missing)}.")
        self.levels, precision = self._levels(record_levels)
        position = {lv: k for k, lv in enumerate(self.levels)}
        record_index = np.array([position[v] for v in record_levels], dtype=np.int64)
        q = len(self.levels)

        order = np.argsort(record_index, kind="stable")
        self._rec_idx = order.astype(np.int64)
        self._rec_ptr = np.searchsorted(record_index[order], np.arange(q + 1)).astype(np.int64)
        self._rec_z = np.ones(order.size)
        self._zz = np.bincount(record_index, weights=context.weights, minlength=q).astype(np.float64)
        self._record_index = record_index
        self._weights = context.weights
        precision = sp.csr_matrix(precision)
        precision.sort_indices()
        self._prec = (precision.indptr.astype(np.int64), precision.indices.astype(np.int64), precision.data.astype(np.float64))
        self.prior = as_variance_prior(
            self.variance_prior_arg, default_variance_prior(context.default_share), self.variance_name
        )
        self._start = context.default_share

    def variables(self) -> list[Variable]:
        return [
            Variable(self.effect_name, (self.level_dim,), {self.level_dim: self.levels}, high_dimensional=True),
            Variable(self.variance_name),
        ]

    def init_state(self, rng) -> dict:
        sigma2 = self.prior.initial_value(self._start)
        if self.prior.sampled:
            sigma2 *= rng.uniform(0.5, 2.0)
        return {"u": np.zeros(len(self.levels)), "sigma2": np.array([sigma2])}

    def step(self, rng, state, resid, sigma2_e) -> dict:
        u, sigma2 = state["u"], state["sigma2"]
        sweep_random_effects(
            rng, u, resid, self._weights, self._rec_ptr, self._rec_idx, self._rec_z, self._zz, *self._prec,
            sigma2_e, sigma2[0],
        )
        sigma2[0] = self.prior.draw_posterior(rng, quadratic_form(u, *self._prec), u.size)
        if self.expand and isinstance(self.prior, ScaledInvChi2):
            self.rescale_move(rng, state, resid, sigma2_e)
        return state

    def rescale_move(self, rng, state, resid, sigma2_e) -> None:
        r"""Joint move (u, sigma2_u) -> (k u, k^2 sigma2_u), k > 0, that keeps the posterior.

        A generalised Gibbs step on the scale group (Liu & Sabatti 2000; the idea of
        parameter expansion, Liu, Rubin & Wu 1998): k is drawn from
        :math:`\pi(k u, k^2\sigma^2_u)\,k^{q+2}\,dk/k`, whose density is proportional to
        :math:`\exp(-(a k^2 - 2 b k)/(2\sigma^2_e))\,k^{-\nu-1}\exp(-\nu S^2/(2\sigma^2_u k^2))`
        with :math:`a = (Zu)'W(Zu)` and :math:`b = (Zu)'W(e + Zu)`. One independence
        Metropolis step proposes :math:`k^* \sim N(b/a, \sigma^2_e/a)` and accepts with
        probability :math:`\min(1, f(k^*)/f(1))`, :math:`f(k) = k^{-\nu-1}\exp(-\nu S^2/(2\sigma^2_u k^2))`
        (the Gaussian part cancels with the proposal). Single-site sweeps move u and
        sigma2_u along their joint ridge slowly; this move travels along it in one step.
        Cost O(records).
        """
        u, sigma2 = state["u"], state["sigma2"]
        fit = self.fitted(state)  # Z u
        a = float(np.dot(self._weights * fit, fit))
        if a <= 0.0:
            return
        b = float(np.dot(self._weights * fit, resid + fit))
        proposal = b / a + np.sqrt(sigma2_e / a) * rng.standard_normal()
        log_u = np.log(rng.random())
        if proposal <= 0.0:
            return
        nu_s2 = self.prior.df * self.prior.scale
        log_ratio = -(self.prior.df + 1.0) * np.log(proposal) - nu_s2 / (2.0 * sigma2[0]) * (proposal**-2 - 1.0)
        if log_u < log_ratio:
            resid -= (proposal - 1.0) * fit
            u *= proposal
            sigma2[0] *= proposal * proposal

    def fitted(self, state) -> np.ndarray:
        return state["u"][self._record_index]

    def record(self, state, resid) -> dict:
        return {self.effect_name: state["u"].copy(), self.variance_name: state["sigma2"][0]}

    def variance(self, state) -> float:
        return float(state["sigma2"][0])

    def priors(self) -> dict:
        return {self.variance_name: self.prior.to_dict()}

    def describe(self) -> dict:
        return {
            "term": type(self).__name__,
            "name": self.name,
            "column": self.column,
            "levels": len(self.levels),
            "prior": self.prior.to_dict(),
        }
