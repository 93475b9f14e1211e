"""Random effects of the levels of a column, iid by default: a location term with a covariance prior."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from .._deprecation import renamed_arguments
from .._typing import PriorArg
from .._user_warnings import warn_user
from .._validation import id_labels, normalize_id, preview, warn_if_boolean_ids
from ..kernels.random_effects import precision_split
from ..priors.defaults import resolve_prior
from .base import BindContext
from .designs import Intercept, Slopes
from .location import LocationTerm


class Random(LocationTerm):
    r"""A random effect of the levels of a column: :math:`u \sim N(0, \sigma^2_u I)` (iid).

    Parameters
    ----------
    column : str
        Column of the data holding each record's level (herd, birth year, mother, ...).
    prior : VariancePrior, float or None
        Prior on :math:`\sigma^2_u` (t x t covariance with t traits; q x q with slopes); a
        number fixes it; ``None`` takes the default prior (``bayesgen.priors.defaults``).
        With ``structure="diag"`` also a list of one prior (or number, or None) per coefficient.
    name : str, optional
        Defaults to ``column``. Draws are recorded as ``<name>`` (dim ``<name>_level``)
        and ``sigma2_<name>`` (and ``rho_<name>`` for a matrix).
    expand : bool, default True
        After each update, move the effects and their covariance jointly (the group move,
        ``bayesgen.sampler.group_move``): it leaves the posterior unchanged and speeds up
        mixing of the variance.
    slopes, structure, intercept : list of str, {"us", "diag"}, bool
        Random regressions: with ``slopes=["x", ...]`` each level gets an intercept (unless
        ``intercept=False``) and a slope on each covariate, correlated (``structure="us"``,
        the default) or not (``"diag"``); lme4's ``(Days | Subject)`` is
        ``Random("Subject", slopes=["Days"])`` and ``(Days || Subject)`` the same with
        ``structure="diag"`` (see :class:`bayesgen.terms.designs.Slopes`).

    Notes
    -----
    Effects are drawn one level at a time with residual updates (or jointly with every other
    location term by the joint and collapsed samplers); the covariance from its prior's
    conjugate update given :math:`U'PU` and L levels, e.g.
    :math:`\sigma^2_u \mid u \sim \text{Scale-inv-}\chi^2(\nu + q, (\nu S^2 + u'Pu)/(\nu + q))`
    with P the prior precision among levels (I here). With t traits, U (L x t) has
    :math:`\mathrm{vec}(U') \sim N(0, P^{-1} \otimes G)` and :math:`G \mid U \sim IW(\nu + L, S + U'PU)`.

    Default priors (``priors="default"``): the half-t(3) on every standard deviation, in the
    units of its coefficient (``HuangWand`` for a matrix); see ``bayesgen.priors.defaults``.
    """

    genetic = False
    predicts = "levels"
    #: What the levels are called in errors.
    level_word = "levels"
    #: How a call of this class starts, for examples in errors.
    call_prefix = "Random(column"

    @renamed_arguments(variance="prior", covariance="structure")
    def __init__(
        self,
        column: str,
        prior: PriorArg = None,
        name: str | None = None,
        expand: bool = True,
        slopes: str | Sequence[str] | None = None,
        structure: str | None = None,
        intercept: bool = True,
    ):
        if not isinstance(column, str):
            raise TypeError(f"{type(self).__name__} column must be a column name (str), got {column!r}.")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"{type(self).__name__} name must be a str, got {name!r}.")
        if not isinstance(expand, (bool, np.bool_)):
            raise TypeError(f"{type(self).__name__} expand must be True or False, got {expand!r}.")
        self.column = column
        self.name = name or column
        self.variance_prior_arg = prior
        self.expand = bool(expand)
        self.layout = self._layout(slopes, structure, intercept)
        self.layout.check_variance(prior)

    def _layout(self, slopes, structure, intercept):
        """The design (``bayesgen.terms.designs``) chosen by the arguments."""
        if slopes is None:
            if structure is not None:
                raise ValueError(
                    f"structure={structure!r} applies to random regressions: give the slope "
                    f"columns as well, e.g. {self.call_prefix}, slopes=['x'], structure='us')."
                )
            if intercept is not True:
                raise ValueError("intercept=False applies to random regressions (slopes=[...]).")
            return Intercept()
        return Slopes(slopes, "us" if structure is None else structure, intercept, self.column)

    # ------------------------------------------------------------------ names
    @property
    def effect_name(self) -> str:
        return self.name

    @property
    def variance_name(self) -> str:
        return f"sigma2_{self.name}"

    @property
    def correlation_name(self) -> str:
        return f"rho_{self.name}"

    @property
    def level_dim(self) -> str:
        return f"{self.name}_level"

    @property
    def coef_dim(self) -> str:
        return f"{self.name}_coef"

    @property
    def coefficient_names(self) -> list:
        return self.layout.coefficient_names

    @property
    def slopes(self):
        """The slope columns of a random regression, else None."""
        return self.layout.slopes

    @property
    def structure(self):
        """The covariance structure of a random regression ("us" or "diag"), else None."""
        return self.layout.covariance

    @property
    def covariance(self):
        """Old name of :attr:`structure` (kept for one release, with a DeprecationWarning)."""
        import warnings

        from .._deprecation import REMOVED_IN

        warnings.warn(
            f"{type(self).__name__}.covariance is deprecated and will be removed in bayesgen {REMOVED_IN}; "
            "use .structure instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.structure

    # ------------------------------------------------------------------ binding
    def _levels(self, record_levels: list) -> tuple[list, sp.csr_matrix]:
        """The levels (coords) and the prior precision among them: iid here."""
        # Sorted as numbers when every level is an integer ("2" before "10"), else as text.
        levels = list(dict.fromkeys(record_levels))
        levels = [levels[k] for k in np.argsort(id_labels(levels), kind="stable")]
        return levels, sp.identity(len(levels), format="csr")

    def bind(self, context: BindContext) -> None:
        frame = context.frame
        self.layout.check_columns(frame, self)
        record_levels = frame[self.column].tolist()
        if type(self)._levels is not Random._levels:  # levels matched to ids outside the data (pedigree, K)
            warn_if_boolean_ids(record_levels, f"Column {self.column!r}")
        record_levels = [normalize_id(v) for v in record_levels]
        missing = [label for label, v in zip(frame.index, record_levels) if v is None]
        if missing:
            raise ValueError(f"Column {self.column!r} has missing {self.level_word} in rows {preview(missing)}.")
        self.levels, precision = self._levels(record_levels)
        position = {lv: k for k, lv in enumerate(self.levels)}
        record_index = np.array([position[v] for v in record_levels], dtype=np.int64)
        self.n_traits = context.n_traits
        self.traits = list(context.traits)
        precision = sp.csr_matrix(precision)
        precision.sort_indices()
        self._set_precision(precision)
        self.layout.bind(self, context, record_index)
        share, scale = self.layout.default_scales(context)
        share = np.atleast_1d(share)
        self.prior = resolve_prior(
            self.variance_prior_arg,
            context.prior_rule,
            share,
            np.atleast_1d(scale),
            self.variance_name,
            diagonal=self.layout.diagonal,
            coefficients=self.coefficient_names,
        )
        if self.prior.sampled and self.prior.improper_at_zero:
            warn_user(
                f"The prior {self.prior!r} on {self.variance_name} is not integrable at 0: the posterior of a "
                f"random-effect variance is then improper and the chain can collapse to 0 ({self.n_levels} levels). "
                "Use a proper prior (df > 0 and scale > 0)."
            )
        self._start = np.diag(share)

    def _set_precision(self, precision: sp.csr_matrix) -> None:
        self.precision = precision
        self._prec = (
            precision.indptr.astype(np.int64),
            precision.indices.astype(np.int64),
            precision.data.astype(np.float64),
        )
        self._prec_cache = self._prec
        self._split = precision_split(self._prec[0], self._prec[1])
        self._prior_diagonal = precision.diagonal()
        self._design_cache = None

    # ------------------------------------------------------------------ the location protocol
    @property
    def n_levels(self) -> int:
        return len(self.levels)

    def design(self) -> sp.csr_matrix:
        return self.layout.incidence(self.n_levels)

    def level_precision(self) -> sp.csr_matrix:
        return self.precision

    def effects(self, state: dict) -> np.ndarray:
        return state["u"]

    def fit_of(self, effects: np.ndarray) -> np.ndarray:
        return self.layout.fit_of(effects)

    def translation_covariates(self):
        return self.layout.translation_covariates() if self.n_traits == 1 else None

    def own_levels(self):
        return self.layout.own_levels() if self.n_traits == 1 else None

    def coords(self) -> list:
        return list(id_labels(self.levels))

    def conditional_prior(self, state):
        r"""Row-wise conditional prior of the effects: :math:`u_i \mid u_{-i} \sim N(-s_i/p_i, 1/p_i)`.

        Returns (p, s) with :math:`p_i = P_{ii}/\sigma^2` and :math:`s_i = \sum_{k \ne i} P_{ik} u_k/\sigma^2`,
        from row i of the prior precision (one coefficient, one trait), for the integrated pointwise
        log-likelihood (``bayesgen.model.pointwise``).
        """
        u = state["u"][:, 0]
        sigma2 = state["sigma2"][0, 0]
        diag = self._prior_diagonal
        return diag / sigma2, (self.precision @ u - diag * u) / sigma2

    # ------------------------------------------------------------------ recorded variables
    def variables(self):
        return self.layout.variables(self)

    def record(self, state, ctx) -> dict:
        return self.layout.record(self, state["u"], state["sigma2"])

    # ------------------------------------------------------------------ states and updates
    def init_state(self, rng) -> dict:
        d = self.covariance_dim
        sigma2 = np.array(self.prior.initial_value(self._start), dtype=np.float64).reshape(d, d)
        if self.prior.sampled:
            sigma2 = sigma2 * rng.uniform(0.5, 2.0)
        return {"u": np.zeros((self.n_levels, d)), "sigma2": sigma2, "prior_aux": self.prior.init_aux(rng)}

    def draw_prior(self, rng, state) -> None:
        state["sigma2"][:] = self.prior.draw_prior(rng, state["prior_aux"])
        # U = L_P^-T Z L_Sigma': rows of U have covariance Sigma, levels covariance P^-1.
        z = rng.standard_normal(state["u"].shape)
        chol_p = np.linalg.cholesky(self.precision.toarray())
        state["u"][:] = np.linalg.solve(chol_p.T, z) @ np.linalg.cholesky(state["sigma2"]).T

    def step(self, rng, state, ctx) -> dict:
        """Single-site sweep of the effects given the covariance, then the covariance given the effects."""
        quadratic = self.layout.sweep(rng, state["u"], ctx, self._prec, self._split, state["sigma2"])
        self.draw_covariance(rng, state, quadratic)
        return {}

    # ------------------------------------------------------------------ outputs
    def variance(self, state):
        return self.layout.phenotypic_variance(state["sigma2"])

    def genetic_variance(self, state):
        return self.layout.genetic_variance(state["sigma2"])

    def log_prior(self, state) -> float:
        return self.prior.log_density(state["sigma2"]) if self.prior.sampled else 0.0

    def priors(self) -> dict:
        if self.prior.diagonal:
            return {
                f"{self.variance_name}[{c}]": p.to_dict() for c, p in zip(self.coefficient_names, self.prior.components)
            }
        return {self.variance_name: self.prior.to_dict()}

    def describe(self) -> dict:
        out = {
            "term": type(self).__name__,
            "name": self.name,
            "column": self.column,
            "levels": self.n_levels,
            "prior": self.prior.to_dict(),
        }
        if self.slopes is not None:
            out.update(slopes=list(self.slopes), intercept=self.layout.intercept, covariance=self.layout.covariance)
        return out
