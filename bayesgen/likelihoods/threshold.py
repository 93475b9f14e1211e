r"""The threshold (probit) likelihood: binary and ordered categorical traits on a liability scale."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from .._deprecation import renamed_arguments
from .._validation import preview
from ..sampler.context import StepContext
from ..terms.base import BindContext
from ..terms.scaling import Scaling
from ..variable import Variable
from .base import Likelihood
from .gaussian import _missingness_patterns
from .truncated_normal import draw_truncated_normal, log_interval_probability, sum_log_interval_probability

#: Target acceptance rate of the cut-point move while it adapts its scale (burn-in only).
CUTPOINT_TARGET_ACCEPTANCE = 0.44


class Threshold(Likelihood):
    r"""Binary and ordinal traits: a category observed through a normal liability (probit link).

    Record r in category :math:`c_r \in \{0, \dots, K-1\}` has a liability

    .. math:: \ell_r = \mu_r + e_r,\quad e_r \sim N(0, 1),\qquad
              c_r = k \iff \tau_k < \ell_r \le \tau_{k+1},

    with :math:`\mu_r = x_r'\beta + \sum z_r'u + w_r'\alpha` the linear predictor and cut-points
    :math:`\tau_0 = -\infty < \tau_1 = 0 < \tau_2 < \dots < \tau_{K-1} < \tau_K = \infty`. The
    residual variance is fixed at 1 and the first cut-point at 0 (MCMCglmm's
    ``family="threshold"`` with ``fix=``): the scale and origin of the liability are not
    identified otherwise. So :math:`P(c_r = k \mid \mu_r) = \Phi(\tau_{k+1} - \mu_r) - \Phi(\tau_k - \mu_r)`.

    The liabilities are the working response (``state["y"]``): every location term, marker
    prior and sampler sees a Gaussian trait with :math:`R = 1` (Albert & Chib 1993). The
    likelihood's step (``augment``) draws

    1. for K > 2, the free cut-points :math:`\tau_2..\tau_{K-1}` jointly with the liabilities
       by Cowles' (1996) Metropolis–Hastings move: a candidate
       :math:`\tau_j' \sim N(\tau_j, s^2)` truncated to :math:`(\tau_{j-1}', \tau_{j+1})`,
       j = 2..K-1 in turn, accepted with probability

       .. math:: \min\Big(1, \prod_r \frac{\Phi(\tau'_{c_r+1} - \mu_r) - \Phi(\tau'_{c_r} - \mu_r)}
                 {\Phi(\tau_{c_r+1} - \mu_r) - \Phi(\tau_{c_r} - \mu_r)}
                 \frac{p(\tau')}{p(\tau)}
                 \prod_{j} \frac{\Phi((\tau_{j+1} - \tau_j)/s) - \Phi((\tau'_{j-1} - \tau_j)/s)}
                 {\Phi((\tau'_{j+1} - \tau'_j)/s) - \Phi((\tau_{j-1} - \tau'_j)/s)}\Big),

       the liabilities integrated out (the first product) and the Hastings ratio of the
       truncated proposals (the last). Gibbs draws of a cut-point given the liabilities are
       confined between the neighbouring categories' liabilities and barely move with many
       records; this move does not condition on them. s adapts during burn-in towards an
       acceptance rate of 0.44 and is then fixed.
    2. the liabilities :math:`\ell_r \mid c_r, \mu_r, \tau \sim N(\mu_r, 1)` truncated to
       :math:`(\tau_{c_r}, \tau_{c_r+1}]` (``truncated_normal``).

    3. (with ``scale_move``, the default) a scale move that multiplies the liabilities, every
       effect and the cut-points by one k > 0 and every variance by :math:`k^2`
       (``bayesgen.sampler.scale_move``, parameter expansion as in Liu & Wu 1999): the
       liabilities pin the scale of the model while R = 1 is fixed, and this move frees it
       (``LiabilityScaling`` is this likelihood's share of that move's target). It runs before
       the augmentation, after the location updates, when every term declares its scaling.

    4. (with ``marginal_moves``, the default) for each term with a scalar group move (a random
       effect's variance, a marker prior's scale), that move again with the liabilities
       integrated out of its target (``bayesgen.sampler.marginal_group_move``; this class's
       ``marginal_log_likelihood``), the liabilities redrawn after an accepted move: a
       variance near zero or weakly identified by the categories no longer creeps.

    The prior on the cut-points is flat on :math:`0 < \tau_2 < \dots < \tau_{K-1}` (MCMCglmm's),
    or with ``cutpoint_prior = s0`` proper: independent :math:`N(0, s_0^2)` restricted to that
    order (draws: K-2 half-normals, sorted).

    Recorded: ``cutpoints`` (dim ``cutpoint``, K > 2); ``h2`` on the liability scale (the
    residual variance 1 counts in the total) and, for binary traits, ``h2_observed``, the
    Dempster & Lerner (1950) observed-scale heritability
    :math:`h^2_{obs} = h^2 \varphi(\Phi^{-1}(p))^2 / (p(1-p))` per draw, p the incidence of the
    upper category among the records. For records without a phenotype (group ``predictions``):
    their liability mean ``mu``, the probability of each category ``probability`` (dims
    ``missing_record``, ``category``) and a predicted category ``y``; with
    ``posterior_predictive``, a replicated category per record.
    """

    family = "threshold"
    cv_columns = ("auc", "log_score")

    @renamed_arguments(variance="prior")
    def __init__(
        self,
        prior: float | None = None,
        posterior_predictive: bool = False,
        cutpoint_prior: float | None = None,
        scale_move: bool = True,
        marginal_moves: bool = True,
    ):
        _check_fixed_variance(prior)
        for option, value in (("scale_move", scale_move), ("marginal_moves", marginal_moves)):
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{option} must be True or False, got {value!r}.")
        if cutpoint_prior is not None:
            if (
                isinstance(cutpoint_prior, bool)
                or not isinstance(cutpoint_prior, (int, float))
                or not np.isfinite(cutpoint_prior)
                or cutpoint_prior <= 0
            ):
                raise ValueError(
                    f"cutpoint_prior must be None (flat) or a positive standard deviation, got {cutpoint_prior!r}."
                )
            cutpoint_prior = float(cutpoint_prior)
        self.variance_prior_arg = prior
        self.posterior_predictive = posterior_predictive
        self.cutpoint_prior = cutpoint_prior
        self.scale_move = bool(scale_move)
        self.marginal_moves = bool(marginal_moves)
        self.categories = None

    def configure(self, variance, posterior_predictive: bool = False) -> None:
        _check_fixed_variance(variance)
        self.posterior_predictive = posterior_predictive

    # ------------------------------------------------------------------ the data
    def read_response(self, data: pd.DataFrame, traits: list) -> np.ndarray:
        """Category codes 0..K-1 (float, NaN = missing) of one column: bool, 0/1 or sorted integer
        codes, or a pandas ordered Categorical; sets ``categories``."""
        if len(traits) != 1:
            raise ValueError(
                f"family='threshold' fits one trait; got y={traits}. Several traits mixing "
                "families are not supported yet."
            )
        name = traits[0]
        column = data[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            if not column.cat.ordered:
                raise TypeError(
                    f"Phenotype column {name!r} is an unordered Categorical with categories "
                    f"{preview(list(column.cat.categories))}: a threshold trait needs the order of its categories; "
                    f"use column.cat.as_ordered() or pd.Categorical(values, categories=[...], ordered=True)."
                )
            categories = list(column.cat.categories)
            codes = column.cat.codes.to_numpy().astype(np.float64)
            codes[codes < 0] = np.nan
        elif pd.api.types.is_bool_dtype(column) or (
            column.dtype == object
            and column.dropna().map(lambda v: isinstance(v, (bool, np.bool_))).all()
            and column.notna().any()
        ):
            categories = [False, True]
            codes = np.where(column.isna(), np.nan, column.fillna(False).astype(bool).to_numpy().astype(np.float64))
        elif pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_complex_dtype(column):
            values = column.to_numpy(dtype=np.float64)
            infinite = np.isinf(values)
            if infinite.any():
                raise ValueError(
                    f"Phenotype column {name!r} has non-finite values in rows "
                    f"{preview(list(data.index[infinite]))} (use NaN for missing)."
                )
            fractional = ~np.isnan(values) & (values != np.round(values))
            if fractional.any():
                bad = data.index[fractional]
                raise ValueError(
                    f"Phenotype column {name!r} has non-integer values {preview(values[fractional].tolist())} in rows "
                    f"{preview(list(bad))}: a threshold trait needs 0/1, bool or integer category codes (or an "
                    "ordered Categorical)."
                )
            levels = np.unique(values[~np.isnan(values)])
            categories = [int(v) for v in levels]
            codes = np.where(np.isnan(values), np.nan, np.searchsorted(levels, np.nan_to_num(values)))
        else:
            strings = column.dropna().unique()
            raise TypeError(
                f"Phenotype column {name!r} holds non-ordered categories {preview(list(strings))}: a threshold trait "
                "needs their order; pass an ordered pandas Categorical (pd.Categorical(values, categories=[...], "
                "ordered=True)), bools or integer codes."
            )
        present = np.unique(codes[~np.isnan(codes)]).astype(int)
        if present.size < 2:
            raise ValueError(
                f"Phenotype column {name!r} has {present.size} observed categor{'y' if present.size == 1 else 'ies'} "
                f"({preview([categories[k] for k in present])}); a threshold trait needs at least 2."
            )
        empty = [categories[k] for k in range(len(categories)) if k not in set(present)]
        if empty:
            raise ValueError(
                f"Phenotype column {name!r} has categories with no record: {preview(empty)}; their cut-points "
                "would not be identified. Remove them (column.cat.remove_unused_categories())."
            )
        self.categories = categories
        return codes[:, None]

    def masked_column(self, values: np.ndarray, held_out: np.ndarray, trait: int = 0):
        """An ordered Categorical of the categories, the held-out records missing (a category left
        without training records is then named by ``read_response``)."""
        codes = np.where(held_out | np.isnan(values), -1, np.nan_to_num(values)).astype(int)
        return pd.Categorical.from_codes(codes, categories=self.category_labels, ordered=True)

    def response_variance(self, values: np.ndarray) -> np.ndarray:
        """The scale the default priors use: the liability's residual variance, 1."""
        return np.ones(values.shape[1])

    def bind(self, context: BindContext, share=None, y=None) -> None:
        observed = np.asarray(context.observed, dtype=bool)
        if context.n_traits != 1:
            raise ValueError("family='threshold' fits one trait.")
        if self.categories is None:
            raise ValueError("Threshold.bind needs read_response first (the categories).")
        self.n_traits = 1
        self.traits = list(context.traits)
        self.n_categories = len(self.categories)
        self.observed_rows = np.flatnonzero(observed[:, 0])
        self._missing_rows = np.flatnonzero(~observed[:, 0])
        self.n_observed = self.observed_rows.size
        labels = list(context.frame.index)
        self.record_labels = [labels[i] for i in self.observed_rows]
        self.missing_labels = [labels[i] for i in self._missing_rows]
        self._patterns = _missingness_patterns(observed, self.observed_rows)
        codes = np.asarray(y, dtype=np.float64).reshape(-1)
        self._category = codes[self.observed_rows].astype(np.int64)
        # Liabilities start inside their category for the starting cut-points 0, 1, ..., K-2.
        self._start_cutpoints = np.arange(1.0, self.n_categories - 1.0)
        edges = self._edges(self._start_cutpoints)
        lower, upper = edges[self._category], edges[self._category + 1]
        start = np.zeros((observed.shape[0], 1))
        start[self.observed_rows, 0] = inside(lower, upper)
        self._y = np.asfortranarray(start)
        self.posterior_predictive = bool(self.posterior_predictive)
        self.label_categories()

    def label_categories(self) -> None:
        """``n_categories``, ``category_labels`` and ``cutpoint_labels`` ("low|mid": the cut-point
        between two categories) from ``categories`` (read by ``read_response``)."""
        self.n_categories = len(self.categories)
        self.category_labels = [str(c) for c in self.categories]
        self.cutpoint_labels = [
            f"{self.category_labels[j]}|{self.category_labels[j + 1]}" for j in range(1, self.n_categories - 1)
        ]

    @property
    def n_cutpoints(self) -> int:
        """Free cut-points: K - 2 (the first is 0)."""
        return self.n_categories - 2

    def _edges(self, cutpoints: np.ndarray) -> np.ndarray:
        """(-inf, 0, tau_2, ..., tau_{K-1}, inf): category k lies in (edges[k], edges[k+1]]."""
        return np.concatenate([[-np.inf, 0.0], cutpoints, [np.inf]])

    def _liability_bounds(self, edges: np.ndarray, category: np.ndarray):
        """The interval of each record's liability given its category."""
        return edges[category], edges[category + 1]

    # ------------------------------------------------------------------ protocol
    def patterns(self) -> list:
        return self._patterns

    def covariance(self, state) -> np.ndarray:
        return state["sigma2_e"]

    @property
    def samples_covariance(self) -> bool:
        return False

    def draw_covariance(self, rng, state, ctx) -> None:
        """The residual variance is fixed at 1: nothing to draw."""

    def variance(self, state):
        return state["sigma2_e"]

    def variables(self) -> list[Variable]:
        out = []
        if self.n_cutpoints:
            out.append(Variable("cutpoints", ("cutpoint",), {"cutpoint": self.cutpoint_labels}))
        out += self.record_variables()
        if self.missing_labels:
            coords = {"missing_record": self.missing_labels}
            out += [
                Variable("mu", ("missing_record",), coords, high_dimensional=True, group="predictions"),
                Variable(
                    "probability",
                    ("missing_record", "category"),
                    {**coords, "category": self.category_labels},
                    high_dimensional=True,
                    group="predictions",
                ),
                Variable("y", ("missing_record",), coords, high_dimensional=True, group="predictions"),
            ]
        return out

    def heritability_variables(self) -> list[Variable]:
        """``h2_observed`` for binary traits (the model records ``h2`` when a term is genetic)."""
        return [Variable("h2_observed")] if self.n_categories == 2 else []

    def scale_heritability(self, state, h2) -> dict:
        r"""Dempster & Lerner's observed-scale h² of a binary trait from the liability h² (class docstring)."""
        if self.n_categories != 2:
            return {}
        p = float(np.mean(state["category"] == 1))
        if not 0.0 < p < 1.0:  # z^2 / (p (1 - p)) -> 0 as p -> 0 or 1
            return {"h2_observed": 0.0}
        z = np.exp(-0.5 * ndtri(p) ** 2) / np.sqrt(2.0 * np.pi)
        return {"h2_observed": float(h2) * z * z / (p * (1.0 - p))}

    def init_state(self, rng) -> dict:
        state = {
            "sigma2_e": np.ones((1, 1)),
            "y": self._y.copy(order="F"),
            "category": self._category.copy(),
            "cutpoints": self._start_cutpoints.copy(),
            "noise": np.zeros((self._missing_rows.size, 1)),
            # The cut-point move's log proposal scale and its acceptance counts (adapted in burn-in).
            "log_scale": np.array([np.log(0.1)]),
            "moves": np.zeros(2),
        }
        if self.posterior_predictive:
            state["replicate"] = np.zeros(self.n_observed)
        return state

    def draw_prior(self, rng, state) -> None:
        """Cut-points from their prior (proper only with ``cutpoint_prior``); the variance is fixed."""
        if not self.n_cutpoints:
            return
        if self.cutpoint_prior is None:
            raise NotImplementedError(
                "The flat prior on the cut-points is improper: give cutpoint_prior to draw from the prior."
            )
        state["cutpoints"][:] = np.sort(np.abs(rng.standard_normal(self.n_cutpoints)) * self.cutpoint_prior)

    def log_cutpoint_prior(self, cutpoints: np.ndarray) -> float:
        """Log density of the cut-points' prior (up to a constant), -inf outside the order."""
        if cutpoints.size and (cutpoints[0] <= 0 or np.any(np.diff(cutpoints) <= 0)):
            return -np.inf
        if self.cutpoint_prior is None:
            return 0.0
        return float(-0.5 * np.sum(cutpoints**2) / self.cutpoint_prior**2)

    def log_prior(self, state) -> float:
        return self.log_cutpoint_prior(state["cutpoints"]) if self.n_cutpoints else 0.0

    def simulate_response(self, rng, state, linear_predictor) -> None:
        r"""Categories :math:`c_r` with :math:`P(c_r = k) = \Phi(\tau_{k+1} - \mu_r) - \Phi(\tau_k - \mu_r)`
        (the category of a draw :math:`N(\mu_r, 1)`), then the liabilities given them.

        The liabilities are drawn by the augmentation's own conditional (``_draw_liabilities``),
        not kept from the first draw (same distribution): the joint-distribution tests then
        check it, since the next iteration's location updates see these liabilities before the
        step's own augmentation.
        """
        rows = self.observed_rows
        mu = linear_predictor[rows, 0]
        state["category"][:] = self._categorise(state["cutpoints"], mu + rng.standard_normal(rows.size))
        state["y"][rows, 0] = self._draw_liabilities(rng, state, mu)

    def _draw_liabilities(self, rng, state, mu: np.ndarray) -> np.ndarray:
        r""":math:`\ell_r \sim N(\mu_r, 1)` truncated to its category's interval, for the records with data."""
        lower, upper = self._liability_bounds(self._edges(state["cutpoints"]), state["category"])
        return draw_truncated_normal(rng, mu, 1.0, lower, upper)

    def _categorise(self, cutpoints: np.ndarray, liability: np.ndarray) -> np.ndarray:
        """Category of each liability: the number of inner cut-points (0, tau_2, ...) below it."""
        return np.searchsorted(np.concatenate([[0.0], cutpoints]), liability, side="left").astype(np.int64)

    @property
    def integrates_augmentation(self) -> bool:
        """With ``marginal_moves``: the liabilities integrate out in closed form."""
        return self.marginal_moves

    def marginal_log_likelihood(self, state, linear_predictor) -> float:
        r""":math:`\sum_r \log P(c_r \mid \mu_r)`, the liabilities integrated out (the marginal group moves)."""
        lower, upper = self._liability_bounds(self._edges(state["cutpoints"]), state["category"])
        return sum_log_interval_probability(lower, upper, linear_predictor[self.observed_rows, 0])

    def scale_action(self):
        """The scale move's view of the liabilities (``scale_move``; ``bayesgen.sampler.scale_move``)."""
        return LiabilityScaling(self) if self.scale_move else None

    # ------------------------------------------------------------------ the augmentation step
    def augment(self, rng, state, ctx: StepContext) -> None:
        """The cut-point move (K > 2), then the liabilities given the categories (class docstring);
        keeps ``ctx.resid``."""
        rows = self.observed_rows
        y, resid = state["y"], ctx.resid
        mu = y[rows, 0] - resid[rows, 0]
        if self.n_cutpoints:
            self._move_cutpoints(rng, state, mu, ctx.tuning)
        liability = self._draw_liabilities(rng, state, mu)
        y[rows, 0] = liability
        resid[rows, 0] = liability - mu

    def _log_likelihood_of_cutpoints(self, cutpoints, category, mu, sd=1.0) -> float:
        """:math:`\\sum_r \\log P(c_r \\mid \\mu_r, \\tau)` over the records whose probability depends on
        the free cut-points (categories 1..K-1), the liability :math:`N(\\mu_r, sd^2)` (sd = 1 alone;
        beside other traits, its conditional given them: ``Mixed``)."""
        moved = category >= 1
        lower, upper = self._liability_bounds(self._edges(cutpoints), category[moved])
        sd = np.broadcast_to(sd, mu.shape)[moved]  # one sd, or each record's (``Mixed``: per pattern)
        return float(np.sum(log_interval_probability((lower - mu[moved]) / sd, (upper - mu[moved]) / sd)))

    def _log_proposal_ratio(self, current, proposed, scale) -> float:
        r""":math:`\log q(\tau \mid \tau') - \log q(\tau' \mid \tau)` of Cowles' sequential truncated proposal.

        The reverse proposal draws :math:`\tau_j` truncated to :math:`(\tau_{j-1}, \tau'_{j+1})`, so it
        cannot return to :math:`\tau` when some :math:`\tau_j \ge \tau'_{j+1}`: then
        :math:`q(\tau \mid \tau') = 0` and the ratio is :math:`-\infty` (the move is rejected). The
        normalising constants alone (the Gaussian kernels cancel) would accept such moves, which left
        the chain's cut-points too low for K > 3 categories (a Geweke test failed at |z| 9.2).
        """
        if np.any(current[:-1] >= proposed[1:]):
            return -np.inf
        old = np.concatenate([[0.0], current, [np.inf]])
        new = np.concatenate([[0.0], proposed, [np.inf]])
        total = 0.0
        for j in range(1, old.size - 1):
            forward = log_interval_probability((new[j - 1] - old[j]) / scale, (old[j + 1] - old[j]) / scale)
            backward = log_interval_probability((old[j - 1] - new[j]) / scale, (new[j + 1] - new[j]) / scale)
            total += float(forward - backward)
        return total

    def _propose_cutpoints(self, rng, current, scale) -> np.ndarray:
        """Cowles' candidate: tau_j' ~ N(tau_j, s^2) truncated to (tau_{j-1}', tau_{j+1}), in turn."""
        proposed = current.copy()
        below = 0.0
        for j in range(current.size):
            above = current[j + 1] if j + 1 < current.size else np.inf
            proposed[j] = draw_truncated_normal(
                rng, np.array([current[j]]), scale, np.array([below]), np.array([above])
            )[0]
            below = proposed[j]
        return proposed

    def _move_cutpoints(self, rng, state, mu, tuning: bool, sd=1.0) -> None:
        """One Metropolis–Hastings move of the cut-points with the liabilities integrated out, each
        liability :math:`N(\\mu_r, sd^2)` (``state``: ``cutpoints``, ``category``, ``log_scale``, ``moves``,
        updated in place)."""
        current = state["cutpoints"]
        scale = float(np.exp(state["log_scale"][0]))
        proposed = self._propose_cutpoints(rng, current, scale)
        category = state["category"]
        log_ratio = (
            self._log_likelihood_of_cutpoints(proposed, category, mu, sd)
            - self._log_likelihood_of_cutpoints(current, category, mu, sd)
            + self.log_cutpoint_prior(proposed)
            - self.log_cutpoint_prior(current)
            + self._log_proposal_ratio(current, proposed, scale)
        )
        accepted = np.log(rng.random()) < log_ratio
        if accepted:
            current[:] = proposed
        moves = state["moves"]
        moves += (1.0, float(accepted))
        if tuning:  # Robbins-Monro on log s towards the target rate; frozen after burn-in
            step = min(0.5, 5.0 / np.sqrt(moves[0]))
            state["log_scale"][0] += step * (float(np.exp(min(0.0, log_ratio))) - CUTPOINT_TARGET_ACCEPTANCE)

    def draw_noise(self, rng, state) -> None:
        """Liability residuals for the predictions of records without a phenotype and the replicates."""
        noise = state["noise"]
        if noise.size:
            noise[:] = rng.standard_normal(noise.shape)
        if "replicate" in state:
            state["replicate"][:] = rng.standard_normal(state["replicate"].size)

    # ------------------------------------------------------------------ outputs
    def category_probabilities(self, cutpoints: np.ndarray, mu: np.ndarray, sd=1.0) -> np.ndarray:
        r""":math:`P(c = k \mid \mu) = \Phi((\tau_{k+1} - \mu)/sd) - \Phi((\tau_k - \mu)/sd)`, records x K."""
        cdf = ndtr(
            (np.concatenate([[0.0], cutpoints])[None, :] - np.asarray(mu)[..., None]) / np.asarray(sd)[..., None]
        )
        ones = np.ones(cdf.shape[:-1] + (1,))
        return np.diff(np.concatenate([0.0 * ones, cdf, ones], axis=-1), axis=-1)

    def record(self, state, ctx: StepContext) -> dict:
        out = {}
        if self.n_cutpoints:
            out["cutpoints"] = state["cutpoints"].copy()
        if self._missing_rows.size:
            mu = -ctx.resid[self._missing_rows, 0]
            out[("predictions", "mu")] = mu
            out[("predictions", "probability")] = self.category_probabilities(state["cutpoints"], mu)
            out[("predictions", "y")] = self._categorise(state["cutpoints"], mu + state["noise"][:, 0]).astype(float)
        if "replicate" in state:
            rows = self.observed_rows
            mu = state["y"][rows, 0] - ctx.resid[rows, 0]
            out[("posterior_predictive", "y")] = self._categorise(state["cutpoints"], mu + state["replicate"]).astype(
                float
            )
        return out

    def log_likelihood(self, state, ctx: StepContext, integrated=None) -> np.ndarray:
        r"""Pointwise :math:`\log P(c_r \mid \theta)` of the records with a category.

        Conditional: :math:`\log(\Phi(\tau_{c_r+1} - \mu_r) - \Phi(\tau_{c_r} - \mu_r))`, the liability
        integrated out. With ``integrated = (shift, extra)`` (``bayesgen.model.pointwise``) the
        record's own random effects b are integrated out too, given every other effect and the
        other records' liabilities: with :math:`b \mid \cdot \sim N(m, v)` the liability is
        :math:`N(\mu_r - s_r, 1 + v_r)` (:math:`s_r` = the current b minus m), so

        .. math:: P(c_r \mid \cdot) = \Phi\Big(\frac{\tau_{c_r+1} - \mu_r + s_r}{\sqrt{1 + v_r}}\Big)
                  - \Phi\Big(\frac{\tau_{c_r} - \mu_r + s_r}{\sqrt{1 + v_r}}\Big),

        closed form (a normal CDF of a normal mean is a normal CDF).
        """
        rows = self.observed_rows
        mu = state["y"][rows, 0] - ctx.resid[rows, 0]
        sd = np.ones(rows.size)
        if integrated is not None:
            mu = mu - integrated[0][rows]
            sd = np.sqrt(1.0 + integrated[1][rows])
        lower, upper = self._liability_bounds(self._edges(state["cutpoints"]), state["category"])
        return log_interval_probability((lower - mu) / sd, (upper - mu) / sd)

    def cv_scores(self, predicted: np.ndarray, observed: np.ndarray, trait: int = 0, cutpoints=None) -> tuple:
        r"""AUC (binary traits) and mean log score of held-out records.

        ``predicted``: draws x records of the liability mean :math:`\mu`; ``observed``: the
        records' category codes; ``cutpoints``: draws x (K-2) (ordinal traits). The predictive
        probability of each category is the posterior mean of :math:`P(c \mid \mu, \tau)`; the
        log score is the mean over records of the log probability of the observed category;
        the AUC (binary) is the probability that a record of category 1 has a higher predicted
        probability than one of category 0 (ties count one half). NaN where undefined.
        """
        if self.n_cutpoints and cutpoints is None:
            raise ValueError("Scoring an ordinal trait needs the cut-point draws.")
        draws = np.zeros((predicted.shape[0], 0)) if cutpoints is None else np.asarray(cutpoints)
        probability = np.mean(
            [self.category_probabilities(draws[k], predicted[k]) for k in range(predicted.shape[0])], axis=0
        )
        codes = np.asarray(observed).astype(np.int64)
        log_score = float(np.mean(np.log(probability[np.arange(codes.size), codes])))
        auc = np.nan
        if self.n_categories == 2:
            auc = _auc(probability[:, 1], codes)
        return auc, log_score

    def describe(self) -> dict:
        return {
            "term": "Threshold",
            "name": "residual",
            "family": self.family,
            "sigma2_e": 1.0,
            "categories": self.category_labels,
            "cutpoint_prior": "flat" if self.cutpoint_prior is None else {"half_normal_sd": self.cutpoint_prior},
            "scale_move": self.scale_move,
            "marginal_moves": self.marginal_moves,
        }

    def priors(self) -> dict:
        if not self.n_cutpoints:
            return {}
        return {"cutpoints": "flat" if self.cutpoint_prior is None else {"half_normal_sd": self.cutpoint_prior}}


class LiabilityScaling(Scaling):
    r"""The liabilities and cut-points under the scale move: :math:`\ell \to k\ell`, :math:`\tau \to k\tau`.

    The n liabilities with data and the K-2 free cut-points give the Jacobian :math:`k^{n + K - 2}`;
    the residual :math:`e_r = \ell_r - \mu_r \sim N(0, 1/w_r)` moves to :math:`ke_r`, giving
    :math:`\exp(-k^2\sum_r w_r e_r^2/2)`; the categories stay (the first cut-point is 0 and the
    others move with the liabilities); the cut-points' prior at :math:`k\tau` is the rest.
    """

    def __init__(self, likelihood: Threshold):
        self.likelihood = likelihood

    def power(self, state: dict) -> float:
        return float(self.likelihood.n_observed + self.likelihood.n_cutpoints)

    def quadratic(self, state: dict, ctx) -> float:
        rows = self.likelihood.observed_rows
        resid = ctx.resid[rows, 0]
        return float(np.dot(ctx.weights[rows, 0] * resid, resid))

    def log_factor(self, state: dict, k: float) -> float:
        return self.likelihood.log_prior({"cutpoints": k * state["cutpoints"]})

    def apply(self, state: dict, k: float) -> None:
        state["y"] *= k
        state["cutpoints"] *= k


def inside(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """A starting liability inside each interval (lower, upper]: its middle, or 0.5 inside an open side."""
    return np.where(np.isinf(lower), upper - 0.5, np.where(np.isinf(upper), lower + 0.5, 0.5 * (lower + upper)))


def _check_fixed_variance(variance) -> None:
    if variance is not None and not (
        isinstance(variance, (int, float)) and not isinstance(variance, bool) and float(variance) == 1.0
    ):
        raise ValueError(
            f"sigma2_e={variance!r}: family='threshold' fixes the residual variance of the liability at 1 "
            "(as MCMCglmm's fix=); leave sigma2_e out."
        )


def _auc(score: np.ndarray, label: np.ndarray) -> float:
    """Area under the ROC curve (Mann–Whitney), ties counting one half; NaN with one class."""
    from scipy.stats import rankdata

    positive = label == 1
    n1, n0 = int(positive.sum()), int((~positive).sum())
    if n1 == 0 or n0 == 0:
        return np.nan
    ranks = rankdata(score)
    return float((ranks[positive].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))
