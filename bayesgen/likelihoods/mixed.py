r"""Several traits mixing families: Gaussian traits beside one or two threshold traits (binary or
ordinal), or threshold traits alone (any number)."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from .._deprecation import renamed_arguments
from ..priors.inverse_wishart import InverseWishart, _draw_inverse_wishart
from ..sampler.context import StepContext
from ..terms.base import BindContext
from ..variable import Variable
from .base import _phenotype
from .bivariate_normal import log_bivariate_normal_rectangle
from .gaussian import Gaussian
from .mixed_scaling import ThresholdTraitScaling
from .threshold import Threshold, inside
from .trivariate_normal import log_trivariate_normal_rectangle
from .truncated_normal import draw_truncated_normal, log_interval_probability, sum_log_interval_probability


class Mixed(Gaussian):
    r"""t traits, Gaussian ones and threshold traits on a liability scale: beside Gaussian traits one
    or two threshold traits, binary or ordinal (``family=["gaussian", "threshold"]``,
    ``["gaussian", "threshold", "threshold"]``, ...); without Gaussian traits any number of them
    (``["threshold", "threshold", "threshold"]``, ...). A list entry may be a
    ``Threshold`` object instead of ``"threshold"``, for its ``cutpoint_prior``.

    The working response holds the Gaussian traits and the liability :math:`\ell_{r,b}` of each
    threshold trait b, in category k when :math:`\tau_{b,k} < \ell_{r,b} \le \tau_{b,k+1}`
    (:math:`\tau_{b,0} = -\infty`, :math:`\tau_{b,1} = 0`, :math:`\tau_{b,K} = \infty`: a binary
    trait's category is 1 when :math:`\ell_{r,b} > 0`); residuals :math:`e_r \sim N(0, R)` with the
    threshold block :math:`R_{BB} = I` fixed (unit variances; two binary traits' residuals
    uncorrelated, as MCMCglmm's ``fix=`` fixes that block) and the covariances :math:`R_{gb}`
    with the Gaussian traits sampled. Beside Gaussian traits at most three threshold traits go
    together: given the Gaussian traits their liabilities are correlated, and a record's
    probability of two categories is a bivariate normal rectangle
    (``log_bivariate_normal_rectangle``), of three a trivariate one
    (``log_trivariate_normal_rectangle``). Threshold traits alone have R = I, so a record's
    categories are independent given the locations and any number of binary or ordinal traits go
    together. Each ordinal trait has its own cut-points.

    **Augmentation.** Threshold trait by threshold trait, the liability of each record with a
    category from its conditional given the record's other observed traits o (the other threshold
    traits' current liabilities included; its missing traits integrated out, per missingness
    pattern),

    .. math:: \ell_{r,b} \mid \cdot \sim N\big(m_{r,b} = \mu_{r,b} + R_{bo}R_{oo}^{-1}(y_{r,o} - \mu_{r,o}),\;
              s_b^2 = R_{bb} - R_{bo}R_{oo}^{-1}R_{ob}\big) \text{ truncated to } (\tau_{b,c_{r,b}}, \tau_{b,c_{r,b}+1}].

    For an ordinal trait that draw follows Cowles' move of its own free cut-points
    (``Threshold._move_cutpoints``) with the liabilities integrated out given the other traits:
    each record's probability :math:`\Phi((\tau_{c+1} - m_{r,b})/s_b) - \Phi((\tau_c - m_{r,b})/s_b)`.
    The move targets the cut-points' conditional given everything but the trait's liabilities,
    which are then drawn given the new cut-points: together one draw of (cut-points,
    liabilities) from their joint conditional.

    Then the missing traits as for Gaussian traits, given the observed ones and the new
    liabilities (a missing threshold trait's liability is a missing trait). With one threshold
    trait the two steps draw the liabilities and the missing traits together from their joint
    conditional (threshold traits alone: their liabilities are independent given the locations),
    which lets the marginal group moves run on records missing traits too.

    **R with a fixed block.** The prior is :math:`R \sim IW(\nu, S)` conditioned on
    :math:`R_{BB} = I`. Partition R into the free traits f and the threshold ones B. For
    :math:`R \sim IW(\nu, \Psi)`, :math:`R_{ff\cdot B} = R_{ff} - R_{fB}R_{BB}^{-1}R_{Bf} \sim IW(\nu, \Psi_{ff\cdot B})`
    and :math:`C = R_{fB}R_{BB}^{-1} \mid R_{ff\cdot B} \sim MN(\Psi_{fB}\Psi_{BB}^{-1}, R_{ff\cdot B}, \Psi_{BB}^{-1})`
    (matrix normal: rows' covariance :math:`R_{ff\cdot B}`, columns' :math:`\Psi_{BB}^{-1}`), both
    independent of :math:`R_{BB}` (Korsgaard et al. 2003; checked by simulation), so conditioning on
    :math:`R_{BB} = I` leaves them unchanged and

    .. math:: R_{ff} = R_{ff\cdot B} + CC',\quad R_{fB} = C,\quad R_{BB} = I.

    The full conditional given the completed residuals E (n records) is the same with
    :math:`\nu + n` and :math:`\Psi = S + E'E` (the likelihood's own step draws it, also under the
    collapsed sampler, which then integrates the locations out given R). With threshold traits
    only, R = I.

    The prior is an ``InverseWishart`` (default: ``df = t + 1``, S = diag of the Gaussian traits'
    variance shares and 1 for the threshold traits, times ``df``). Recorded: ``sigma2_e`` (t x t, its
    threshold block I) and ``rho_e``; the pointwise log-likelihood of a record is
    :math:`\log N(y_{r,g} \mid \mu_{r,g}, R_{gg}) + \log P(c_{r,B'} \mid y_{r,g})` over its observed
    Gaussian traits g and threshold traits B' (the liabilities integrated out given the Gaussian
    traits: a normal interval probability for one, a bivariate normal rectangle for two,
    ``bayesgen.likelihoods.bivariate_normal``, a trivariate one for three,
    ``bayesgen.likelihoods.trivariate_normal``; a sum of interval probabilities for threshold
    traits without Gaussian ones); ``h2`` per trait, on the liability scale for the
    threshold traits; ``cutpoints`` (dim ``cutpoint``) of the ordinal traits, one after the other
    (labelled ``"low|mid"``, or ``"trait: low|mid"`` when there are several ordinal traits).
    """

    family = "mixed"
    #: Threshold traits beside Gaussian traits: given them, a record's probability of its
    #: categories is a bivariate or trivariate normal rectangle (accurate in the tails); four
    #: would need a four-dimensional one. Threshold traits alone (R = I) have no such limit.
    MAX_BESIDE_GAUSSIAN = 3

    @renamed_arguments(variance="prior")
    def __init__(self, families, prior=None, posterior_predictive: bool = False):
        super().__init__(prior, posterior_predictive)
        if not isinstance(families, (list, tuple)) or not all(
            isinstance(f, Threshold) or f in ("gaussian", "threshold") for f in families
        ):
            raise ValueError(
                f"family must list 'gaussian', 'threshold' or a Threshold object per trait, got {families!r}."
            )
        self.families = ["threshold" if isinstance(f, Threshold) else f for f in families]
        n_thresholds = self.families.count("threshold")
        if len(families) < 2 or n_thresholds == 0:
            raise ValueError(
                f"family={self.families!r}: several traits mixing families list two or more traits, one "
                f"or more of them 'threshold'."
            )
        if "gaussian" in self.families and n_thresholds > self.MAX_BESIDE_GAUSSIAN:
            raise ValueError(
                f"family={self.families!r}: beside Gaussian traits a model takes one to three threshold traits "
                f"(four or more go together without Gaussian traits)."
            )
        #: Indices of the threshold traits, and each one's Threshold (copied: the user's stays unbound).
        self.threshold_traits = np.array([k for k, f in enumerate(self.families) if f == "threshold"])
        self._thresholds = [
            copy.deepcopy(families[k]) if isinstance(families[k], Threshold) else Threshold()
            for k in self.threshold_traits
        ]

    def read_response(self, data: pd.DataFrame, traits: list) -> np.ndarray:
        if len(traits) != len(self.families):
            raise ValueError(f"family lists {len(self.families)} families for {len(traits)} traits {traits}.")
        columns = []
        self.categories = {}
        thresholds = iter(self._thresholds)
        for k, (name, family) in enumerate(zip(traits, self.families)):
            if family != "threshold":
                columns.append(self._read_free_trait(data, name, k))
                continue
            threshold = next(thresholds)
            codes = threshold.read_response(data, [name])[:, 0]
            self.categories[name] = threshold.categories
            columns.append(codes)
        return np.column_stack(columns)

    def _read_free_trait(self, data: pd.DataFrame, name: str, trait: int) -> np.ndarray:
        """A trait with a free residual variance: a Gaussian phenotype."""
        return _phenotype(data, name)

    def masked_column(self, values: np.ndarray, held_out: np.ndarray, trait: int = 0):
        """A threshold trait's column as its ``Threshold`` reads it back (an ordered Categorical);
        a Gaussian one's with NaN."""
        if trait in self.threshold_traits:
            return self._thresholds[self._column_of(trait)].masked_column(values, held_out)
        return super().masked_column(values, held_out, trait)

    def cv_columns_of(self, trait: int = 0) -> tuple:
        """A threshold trait's ``auc`` and ``log_score``, a Gaussian one's ``accuracy``, ``slope``, ``mse``."""
        if trait in self.threshold_traits:
            return self._thresholds[self._column_of(trait)].cv_columns
        return super().cv_columns_of(trait)

    def cv_scores(self, predicted: np.ndarray, observed: np.ndarray, trait: int = 0, cutpoints=None) -> tuple:
        """A threshold trait scored by its ``Threshold`` (with its own slice of the cut-point draws), a
        Gaussian one as a Gaussian trait."""
        if trait in self.threshold_traits:
            column = self._column_of(trait)
            own = None if cutpoints is None else np.asarray(cutpoints)[:, self._cutpoint_slice(column)]
            return self._thresholds[column].cv_scores(predicted, observed, cutpoints=own)
        return super().cv_scores(predicted, observed, trait)

    def _column_of(self, trait: int) -> int:
        """Position among the threshold traits of the threshold trait at position ``trait``."""
        return int(np.searchsorted(self.threshold_traits, trait))

    def response_variance(self, values: np.ndarray) -> np.ndarray:
        out = super().response_variance(values)
        out[self.threshold_traits] = 1.0
        return out

    @property
    def _ordinal_columns(self) -> list:
        """Positions among the threshold traits of the ordinal ones (K > 2 categories)."""
        return [column for column, t in enumerate(self._thresholds) if len(t.categories) > 2]

    def _cutpoint_slice(self, column: int) -> slice:
        """Threshold trait ``column``'s free cut-points within the model's ``cutpoints`` (the ordinal
        traits' ones after each other; empty for a binary trait)."""
        start = 0
        for c in self._ordinal_columns:
            if c == column:
                return slice(start, start + self._thresholds[c].n_cutpoints)
            start += self._thresholds[c].n_cutpoints
        return slice(start, start)

    def bind(self, context: BindContext, share=None, y=None) -> None:
        thresholds = self.threshold_traits
        codes = np.asarray(y, dtype=np.float64)[:, thresholds].copy()
        for threshold in self._thresholds:
            threshold.label_categories()
        # Liabilities start inside their category for the starting cut-points 0, 1, ..., K-2.
        self._start_cutpoints = np.concatenate(
            [np.zeros(0)] + [np.arange(1.0, self._thresholds[c].n_categories - 1.0) for c in self._ordinal_columns]
        )
        start = np.asarray(y, dtype=np.float64).copy()
        for column in range(len(self._thresholds)):
            has = ~np.isnan(codes[:, column])
            edges = self._edges(column, self._start_cutpoints)
            category = np.nan_to_num(codes[:, column]).astype(np.int64)
            start[:, thresholds[column]] = np.where(has, inside(edges[category], edges[category + 1]), np.nan)
        super().bind(context, share=share, y=start)
        t = self.n_traits
        if self.variance_prior_arg is None:
            shares = np.atleast_1d(
                np.asarray(share if share is not None else context.phenotypic_variance * 0.5, dtype=float)
            ).copy()
            shares[thresholds] = 1.0
            self.prior = InverseWishart(t + 1.0, (t + 1.0) * np.diag(shares))
        elif not isinstance(self.variance_prior_arg, InverseWishart):
            raise TypeError(
                f"sigma2_e: traits mixing families need an InverseWishart prior on R (its threshold "
                f"block fixed at I), got {self.variance_prior_arg!r}."
            )
        else:
            self.prior = self.variance_prior_arg
        if self.prior.dim != t:
            raise ValueError(
                f"sigma2_e: the InverseWishart prior is {self.prior.dim} x {self.prior.dim}, the model has {t} traits."
            )
        rows = self.observed_rows
        # records (with some trait) x threshold traits: whose category is observed, and the category (-1: none)
        self._has_category = ~np.isnan(codes[rows])
        self._category = np.where(self._has_category, np.nan_to_num(codes[rows]), -1).astype(np.int64)
        self._free = np.array([k for k in range(t) if k not in thresholds], dtype=np.int64)
        start_cov = self._start.copy()
        start_cov[thresholds, :] = start_cov[:, thresholds] = 0.0
        start_cov[thresholds, thresholds] = 1.0
        self._start = start_cov

    def _edges(self, column: int, cutpoints: np.ndarray) -> np.ndarray:
        """Threshold trait ``column``'s category edges: (-inf, 0, inf) when binary, else with its
        free cut-points, its slice of the model's ``cutpoints``."""
        if len(self._thresholds[column].categories) == 2:
            return np.array([-np.inf, 0.0, np.inf])
        return np.concatenate([[-np.inf, 0.0], cutpoints[self._cutpoint_slice(column)], [np.inf]])

    @property
    def samples_covariance(self) -> bool:
        """R is drawn by this likelihood's own conditional step (fixed block), never by a collapsed block."""
        return False

    def variables(self) -> list[Variable]:
        out = super().variables()
        if self._ordinal_columns:
            out.insert(0, Variable("cutpoints", ("cutpoint",), {"cutpoint": self.cutpoint_labels}))
        return out

    @property
    def cutpoint_labels(self) -> list:
        """Labels of ``cutpoints``: each ordinal trait's ("low|mid"), prefixed by its trait's name
        ("trait: low|mid") when there are several."""
        columns = self._ordinal_columns
        if len(columns) == 1:
            return list(self._thresholds[columns[0]].cutpoint_labels)
        return [
            f"{self.traits[self.threshold_traits[c]]}: {label}"
            for c in columns
            for label in self._thresholds[c].cutpoint_labels
        ]

    def init_state(self, rng) -> dict:
        state = super().init_state(rng)
        state["sigma2_e"][:] = self._start
        state["category"] = self._category.copy()
        n_ordinal = len(self._ordinal_columns)
        if n_ordinal:
            state["cutpoints"] = self._start_cutpoints.copy()
            # Cowles' moves, one per ordinal trait: log proposal scales and acceptance counts (adapted in burn-in)
            state["log_scale"] = np.full(n_ordinal, np.log(0.1))
            state["moves"] = np.zeros(2 * n_ordinal)
        return state

    def trait_scale_actions(self) -> list:
        """Each threshold trait's own scale move (``bayesgen.likelihoods.mixed_scaling``), unless its
        ``Threshold`` in the family list says ``scale_move=False``."""
        return [
            (int(b), ThresholdTraitScaling(self, column))
            for column, b in enumerate(self.threshold_traits)
            if self._thresholds[column].scale_move
        ]

    def _cutpoint_state(self, state, column: int) -> dict:
        """Ordinal trait ``column``'s share of the state, as ``Threshold``'s cut-point move reads it
        (views: the move updates them in place)."""
        has = self._has_category[:, column]
        j = self._ordinal_columns.index(column)
        return {
            "cutpoints": state["cutpoints"][self._cutpoint_slice(column)],
            "category": state["category"][has, column],
            "log_scale": state["log_scale"][j : j + 1],
            "moves": state["moves"][2 * j : 2 * j + 2],
        }

    # ------------------------------------------------------------------ R given R_BB = I
    def _draw_fixed_block(self, rng, df: float, psi: np.ndarray) -> np.ndarray:
        """R ~ IW(df, psi) conditioned on R_BB = I (class docstring)."""
        f, b = self._free, self.threshold_traits
        out = np.zeros_like(psi)
        out[b, b] = 1.0
        if f.size == 0:
            return out
        psi_ff, psi_fb, psi_bb = psi[np.ix_(f, f)], psi[np.ix_(f, b)], psi[np.ix_(b, b)]
        mean = np.linalg.solve(psi_bb, psi_fb.T).T  # Psi_fB Psi_BB^-1
        r_ff_b = _draw_inverse_wishart(rng, df, psi_ff - mean @ psi_fb.T)
        column_chol = self._columns_factor(psi_bb)
        coefficient = mean + np.linalg.cholesky(r_ff_b) @ rng.standard_normal((f.size, b.size)) @ column_chol.T
        out[np.ix_(f, f)] = r_ff_b + coefficient @ coefficient.T
        out[np.ix_(f, b)] = coefficient
        out[np.ix_(b, f)] = coefficient.T
        return out

    @staticmethod
    def _columns_factor(psi_bb: np.ndarray) -> np.ndarray:
        """Cholesky factor of the matrix normal's columns' covariance, Psi_BB^-1."""
        return np.linalg.cholesky(np.linalg.inv(psi_bb))

    def draw_prior(self, rng, state) -> None:
        """R from its prior given R_BB = I; each ordinal trait's cut-points from theirs (proper only
        with ``Threshold(cutpoint_prior=)``)."""
        state["sigma2_e"][:] = self._draw_fixed_block(rng, self.prior.df, self.prior.scale)
        for column in self._ordinal_columns:
            self._thresholds[column].draw_prior(rng, {"cutpoints": state["cutpoints"][self._cutpoint_slice(column)]})

    def log_prior(self, state) -> float:
        out = super().log_prior(state)
        for column in self._ordinal_columns:
            out += self._thresholds[column].log_cutpoint_prior(state["cutpoints"][self._cutpoint_slice(column)])
        return out

    def draw_covariance(self, rng, state, ctx: StepContext) -> None:
        e = ctx.resid[self.observed_rows]
        state["sigma2_e"][:] = self._draw_fixed_block(rng, self.prior.df + self.n_observed, self.prior.scale + e.T @ e)

    # ------------------------------------------------------------------ liabilities
    def _draw_liabilities(self, rng, state, y: np.ndarray, resid: np.ndarray, tuning=None) -> None:
        """Each threshold trait's liabilities in turn, given the record's other observed traits (its
        missing ones integrated out; class docstring), truncated to their category's interval; an
        ordinal trait's cut-points moved first unless ``tuning`` is None (a simulation); updates
        ``y`` and ``resid`` (records x traits, all records)."""
        cov = state["sigma2_e"]
        for column, b in enumerate(self.threshold_traits):
            has = self._has_category[:, column]
            rows = self.observed_rows[has]
            mu = y[rows, b] - resid[rows, b]
            mean, sd = self._liability_conditional(cov, column, rows, mu, resid)
            ordinal = len(self._thresholds[column].categories) > 2
            if ordinal and tuning is not None:
                self._thresholds[column]._move_cutpoints(rng, self._cutpoint_state(state, column), mean, tuning, sd)
            edges = self._edges(column, state["cutpoints"] if ordinal else None)
            category = state["category"][has, column]
            liability = draw_truncated_normal(rng, mean, sd, edges[category], edges[category + 1])
            y[rows, b] = liability
            resid[rows, b] = liability - mu

    def _liability_conditional(self, cov: np.ndarray, column: int, rows: np.ndarray, mu: np.ndarray, resid):
        r"""(mean, sd) per record of threshold trait ``column``'s liability given the record's other
        observed traits o (``_conditioning_traits``): :math:`\mu + R_{bo}R_{oo}^{-1}e_o` and
        :math:`(R_{bb} - R_{bo}R_{oo}^{-1}R_{ob})^{1/2}`, by missingness pattern; ``rows`` are the
        records with its category, ``mu`` their linear predictor."""
        b = int(self.threshold_traits[column])
        mean, sd = mu.copy(), np.empty(rows.size)
        for members, others in self._liability_groups(column):
            if not np.any(cov[others, b]):  # none observed, or uncorrelated (threshold traits alone)
                sd[members] = np.sqrt(cov[b, b])
                continue
            coefficient = np.linalg.solve(cov[np.ix_(others, others)], cov[others, b])
            sd[members] = np.sqrt(cov[b, b] - cov[b, others] @ coefficient)
            mean[members] = mu[members] + resid[np.ix_(rows[members], others)] @ coefficient
        return mean, sd

    def _liability_groups(self, column: int) -> list:
        """(members, others) per missingness pattern that observes threshold trait ``column``: the
        pattern's records among those with its category, and the traits its liability is drawn
        given there (``_conditioning_traits`` that the pattern observes). Fixed by the data: made
        once per binding of the patterns."""

        def build():
            groups = []
            for c, b in enumerate(self.threshold_traits):
                given = self._conditioning_traits(int(b))
                at = np.flatnonzero(self._has_category[:, c])  # positions among the observed records
                groups.append(
                    [
                        (np.searchsorted(at, p.positions), p.observed[np.isin(p.observed, given)])
                        for p in self._patterns
                        if b in p.observed
                    ]
                )
            return groups

        return self._per_binding("_liability_groups_made", build)[column]

    def _per_binding(self, name: str, build):
        """``build()``, made once per binding of the missingness patterns (what it returns depends on
        the data only) and kept in attribute ``name`` beside the patterns it was made from."""
        cached = getattr(self, name, None)
        if cached is None or cached[0] is not self._patterns:
            cached = (self._patterns, build())
            setattr(self, name, cached)
        return cached[1]

    def _conditioning_traits(self, trait: int) -> np.ndarray:
        """The traits a threshold trait's liability is drawn given: all the others."""
        return np.array([k for k in range(self.n_traits) if k != trait])

    def augment(self, rng, state, ctx: StepContext) -> None:
        """The cut-points and liabilities given the categories and the records' observed traits (their
        missing ones integrated out), then the missing traits given everything observed and the new
        liabilities (Gaussian conditional): a draw of the liabilities and missing traits together
        when there is one threshold trait, a Gibbs sweep over them otherwise; keeps ``ctx.resid``."""
        y, resid = state["y"], ctx.resid
        self._draw_liabilities(rng, state, y, resid, tuning=bool(ctx.tuning))
        self._draw_missing_traits(rng, state["sigma2_e"], y, resid)

    def simulate_response(self, rng, state, linear_predictor) -> None:
        """The observed traits as for Gaussian traits (liabilities included), their categories, then
        the liabilities redrawn by the augmentation's conditionals (a Gibbs pass from an exact draw:
        same distribution; the joint-distribution tests then check it)."""
        super().simulate_response(rng, state, linear_predictor)
        y = state["y"]
        for column, b in enumerate(self.threshold_traits):
            has = self._has_category[:, column]
            inner = self._edges(column, state.get("cutpoints"))[1:-1]
            state["category"][has, column] = np.searchsorted(inner, y[self.observed_rows[has], b], side="left")
        resid = y - linear_predictor
        self._draw_liabilities(rng, state, y, resid)
        self._draw_missing_traits(rng, state["sigma2_e"], y, resid)

    # ------------------------------------------------------------------ the marginal group moves
    def marginal_traits(self) -> list:
        """The threshold traits whose marginal group moves run (``integrates_augmentation``)."""
        if not self.integrates_augmentation:
            return []
        return [int(b) for column, b in enumerate(self.threshold_traits) if self._thresholds[column].marginal_moves]

    #: Whether records missing traits keep the marginal group moves (``integrates_augmentation``).
    MARGINAL_MOVES_WITH_MISSING_TRAITS = True

    @property
    def integrates_augmentation(self) -> bool:
        r"""Whether the marginal group moves can run: a threshold trait's ``marginal_moves``, and an
        augmentation that redraws exactly what :math:`P(\text{data} \mid \mu)` integrates out
        (the liabilities and the missing traits), from its joint conditional: one threshold trait,
        or threshold traits alone (R = I: each liability's conditional is then exact given the
        others). The augmentation draws the liabilities given the observed traits only, then the
        missing traits given them (``augment``)."""
        return (
            any(t.marginal_moves for t in self._thresholds)
            and (not self.augments or self.MARGINAL_MOVES_WITH_MISSING_TRAITS)
            and (len(self._thresholds) == 1 or self._free.size == 0)
        )

    def marginal_log_likelihood(self, state, linear_predictor) -> float:
        r""":math:`\sum_r \log N(y_{r,f} \mid \mu_{r,f}, R_{ff}) + \sum_b \log P(c_{r,b} \mid y_{r,f})`, the
        liabilities (and missing traits) integrated out; where ``integrates_augmentation`` holds (one
        threshold trait or threshold traits alone), the same sum as the pointwise log-likelihood:
        its per-pattern loop when records miss traits, else each threshold trait given the free
        traits f only."""
        if self.augments:
            return self._marginal_log_likelihood_by_pattern(state, linear_predictor)
        rows, free = self.observed_rows, self._free
        cov = state["sigma2_e"]
        mu = linear_predictor[rows]
        resid = state["y"][rows] - mu
        total, others = 0.0, resid[:, free]
        if free.size:
            chol = np.linalg.cholesky(cov[np.ix_(free, free)])
            z = np.linalg.solve(chol, others.T)
            total -= 0.5 * float(np.sum(z * z)) + rows.size * (
                float(np.log(np.diag(chol)).sum()) + 0.5 * free.size * np.log(2.0 * np.pi)
            )
        for column, b in enumerate(self.threshold_traits):
            mean, sd = mu[:, b], 1.0
            if free.size:
                coefficient = np.linalg.solve(cov[np.ix_(free, free)], cov[free, b])
                mean = mean + others @ coefficient
                sd = float(np.sqrt(cov[b, b] - cov[b, free] @ coefficient))
            edges = self._edges(column, state.get("cutpoints"))
            category = state["category"][:, column]
            total += sum_log_interval_probability(edges[category] / sd, edges[category + 1] / sd, mean / sd)
        return total

    def _marginal_log_likelihood_by_pattern(self, state, linear_predictor) -> float:
        r"""``marginal_log_likelihood`` with records missing traits: per missingness pattern, the
        density of the observed Gaussian traits g and :math:`\log P(c_{r,b} \mid y_{r,g})` of each
        observed threshold trait b given them, summed (the pointwise log-likelihood's sum, its
        intervals independent given g where ``integrates_augmentation`` holds: one threshold trait,
        or threshold traits alone with R = I)."""
        total = 0.0
        if self._free.size == 0:
            # threshold traits alone (R = I): each trait over its records with a category
            for column, b in enumerate(self.threshold_traits):
                has = self._has_category[:, column]
                edges = self._edges(column, state.get("cutpoints"))
                category = state["category"][has, column]
                mean = linear_predictor[self.observed_rows[has], b]
                total += sum_log_interval_probability(edges[category], edges[category + 1], mean)
            return total
        cov = state["sigma2_e"]
        for positions, rows, gaussian, interval in self._pointwise_groups(state):
            mu = linear_predictor[rows]
            means = mu[:, interval]
            sds = np.sqrt(np.diag(cov)[interval])
            if gaussian.size:
                others = state["y"][np.ix_(rows, gaussian)] - mu[:, gaussian]
                chol = np.linalg.cholesky(cov[np.ix_(gaussian, gaussian)])
                z = np.linalg.solve(chol, others.T)
                total -= 0.5 * float(np.sum(z * z)) + rows.size * (
                    float(np.log(np.diag(chol)).sum()) + 0.5 * gaussian.size * np.log(2.0 * np.pi)
                )
                coefficient = np.linalg.solve(cov[np.ix_(gaussian, gaussian)], cov[np.ix_(gaussian, interval)])
                means = means + others @ coefficient
                sds = np.sqrt(sds**2 - np.sum(cov[np.ix_(gaussian, interval)] * coefficient, axis=0))
            for j, trait in enumerate(interval):
                lower, upper = self._interval_of(state, positions, trait)
                total += sum_log_interval_probability(lower / sds[j], upper / sds[j], means[:, j] / sds[j])
        return total

    # ------------------------------------------------------------------ outputs
    def log_likelihood(self, state, ctx: StepContext, integrated=None) -> np.ndarray:
        r"""Per record: :math:`\log N(y_{r,g} \mid \mu_{r,g}, R_{gg})` of its observed Gaussian traits g plus
        :math:`\log P(c_{r,B'} \mid y_{r,g})` of its observed threshold traits B' (the liabilities
        integrated out given the Gaussian traits: closed form)."""
        if integrated is not None:
            raise NotImplementedError("The integrated pointwise log-likelihood is available for one trait only.")
        return self._pointwise(state, ctx.resid)

    def _pointwise(self, state, resid: np.ndarray) -> np.ndarray:
        """``log_likelihood`` given the residuals (records x traits) of the working response."""
        cov = state["sigma2_e"]
        out = np.empty(self.n_observed)
        for positions, rows, gaussian, interval in self._pointwise_groups(state):
            value = np.zeros(rows.size)
            if gaussian.size:
                chol = np.linalg.cholesky(cov[np.ix_(gaussian, gaussian)])
                z = np.linalg.solve(chol, resid[np.ix_(rows, gaussian)].T)
                value += -0.5 * (
                    gaussian.size * np.log(2.0 * np.pi) + 2.0 * np.log(np.diag(chol)).sum() + (z * z).sum(axis=0)
                )
            if interval.size:
                # the interval traits given the Gaussian ones: mean (rows x I), covariance (I x I)
                mean = state["y"][np.ix_(rows, interval)] - resid[np.ix_(rows, interval)]
                conditional = cov[np.ix_(interval, interval)]
                if gaussian.size:
                    coefficient = np.linalg.solve(cov[np.ix_(gaussian, gaussian)], cov[np.ix_(gaussian, interval)])
                    mean = mean + resid[np.ix_(rows, gaussian)] @ coefficient
                    conditional = conditional - cov[np.ix_(interval, gaussian)] @ coefficient
                sd = np.sqrt(np.diag(conditional))
                bounds = []
                for j, trait in enumerate(interval):
                    lower, upper = self._interval_of(state, positions, trait)
                    bounds.append(((lower - mean[:, j]) / sd[j], (upper - mean[:, j]) / sd[j]))
                if interval.size == 1 or not np.any(conditional[~np.eye(interval.size, dtype=bool)]):
                    # one interval, or several independent ones (threshold traits alone: R_BB = I)
                    for lower, upper in bounds:
                        value += log_interval_probability(lower, upper)
                elif interval.size == 2:
                    # two correlated given the Gaussian traits: a bivariate normal rectangle (an
                    # orthant for two binary categories)
                    rho = conditional[0, 1] / (sd[0] * sd[1])
                    value += log_bivariate_normal_rectangle(*bounds[0], *bounds[1], rho)
                elif interval.size == 3:
                    # three: a trivariate normal rectangle (an orthant for three binary categories)
                    corr = conditional / np.outer(sd, sd)
                    lower = np.column_stack([low for low, _ in bounds])
                    upper = np.column_stack([high for _, high in bounds])
                    value += log_trivariate_normal_rectangle(lower, upper, corr)
                else:  # excluded when the likelihood is made (MAX_BESIDE_GAUSSIAN)
                    raise NotImplementedError("four correlated interval traits need a four-dimensional rectangle.")
            out[positions] = value
        return out

    def _pointwise_groups(self, state):
        """(positions, rows, gaussian traits, interval traits) of groups of records that share which
        traits enter the pointwise log-likelihood by their density and which by the probability of
        their interval: per missingness pattern, the observed threshold traits by their category.
        Fixed by the data: made once per binding of the patterns (the marginal moves ask for them at
        every evaluation)."""

        def build():
            groups = []
            for pattern in self._patterns:
                obs = pattern.observed
                threshold = np.isin(obs, self.threshold_traits)
                groups.append((pattern.positions, pattern.rows, obs[~threshold], obs[threshold]))
            return groups

        return self._per_binding("_pointwise_groups_made", build)

    def _interval_of(self, state, positions: np.ndarray, trait: int):
        """(lower, upper) of the working value of ``trait`` (a threshold trait) at the observed records
        ``positions``: its category's edges."""
        column = self._column_of(trait)
        category = state["category"][positions, column]
        edges = self._edges(column, state.get("cutpoints"))
        return edges[category], edges[category + 1]

    def record(self, state, ctx: StepContext) -> dict:
        """``Gaussian``'s, with each threshold trait's replicated liabilities (when
        ``posterior_predictive``) turned into their categories, and the cut-points."""
        out = super().record(state, ctx)
        replicated = out.get(("posterior_predictive", "y"))
        if replicated is not None:
            for column, b in enumerate(self.threshold_traits):
                has = ~np.isnan(replicated[:, b])
                inner = self._edges(column, state.get("cutpoints"))[1:-1]
                replicated[has, b] = np.searchsorted(inner, replicated[has, b], side="left")
        if self._ordinal_columns:
            out["cutpoints"] = state["cutpoints"].copy()
        return out

    def describe(self) -> dict:
        out = super().describe()
        fixed = {self.traits[b]: 1.0 for b in self.threshold_traits}
        out.update({"term": "Mixed", "family": self.families, "fixed": {"sigma2_e": fixed}})
        if self._ordinal_columns:
            out["cutpoints"] = self.cutpoint_labels
        return out
