r"""Random regressions: per level an intercept and slopes on covariates, with a q x q covariance.

A record r of level :math:`l(r)` with covariates :math:`x_r = (1, x_{r1}, \dots)` gets
:math:`x_r' u_{l(r)}`, and the levels' coefficient vectors are

.. math:: \mathrm{vec}(U') \sim N(0, P^{-1} \otimes \Sigma),

U (levels x q), P the prior precision among levels (I for iid levels, :math:`A^{-1}` for
animals related by a pedigree: the random-regression animal model) and :math:`\Sigma` the
q x q covariance of (intercept, slopes): unstructured (``covariance="us"``) or diagonal
(``"diag"``). lme4's ``(Days | Subject)`` is ``Random("Subject", slopes=["Days"])`` and
``(Days || Subject)`` the same with ``covariance="diag"``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._user_warnings import warn_user
from .._validation import id_labels, normalize_id, preview, require_columns
from ..data.pedigree import Pedigree
from ..kernels.random_effects import quadratic_form_matrix
from ..kernels.random_regression import sweep_random_regression
from ..priors.base import VariancePrior
from ..priors.defaults import covariance_prior_for, variance_prior_for
from ..priors.scaled_inv_chi2 import as_variance_prior
from .base import BindContext, StepContext, Term, Variable

#: The covariance structures of (intercept, slopes).
COVARIANCES = ("us", "diag")
#: Coordinate of the intercept among the coefficients.
INTERCEPT = "(Intercept)"


class RandomRegression(Term):
    r"""Correlated random intercepts and slopes of the levels of a column.

    Usually built as ``bg.Random(column, slopes=[...], covariance="us")``.

    Parameters
    ----------
    column : str
        Column holding each record's level (subject, animal, herd, ...).
    slopes : list of str
        Numeric columns: each level gets a random slope on each (used as given, not centred:
        the intercept's variance is then that at covariate 0, as in lme4).
    covariance : {"us", "diag"}, default "us"
        "us": :math:`\Sigma` unstructured (variances and correlations sampled);
        "diag": independent coefficients, :math:`\Sigma = \mathrm{diag}(\sigma^2_0, \sigma^2_1, \dots)`.
    variance : prior, optional
        "us": a q x q prior (``InverseWishart(df, scale)``, ``HuangWand``) or a fixed q x q
        matrix. "diag": a list of q one-dimensional priors or numbers (None entries take the
        default), in the order intercept, slopes.
    name : str, optional
        Defaults to ``column``.
    intercept : bool, default True
        Include the random intercept (q = 1 + len(slopes)); False gives slopes only.
    pedigree : Pedigree, optional
        Levels are the pedigree's animals with :math:`P = A^{-1}` (random-regression animal
        model, :math:`\Sigma \otimes A`); the term then counts as genetic in ``h2``.
    expand : bool, default True
        After each update, rescale each coefficient's column of U and :math:`\Sigma` jointly
        (``rescale_move``), when every variance is sampled.

    Default priors (``priors="default"``): the half-t of the one-trait default on every
    standard deviation, in the units of its coefficient: scale :math:`A_0 = \mathrm{sd}(y)`
    for the intercept and :math:`A_k = \mathrm{sd}(y)/\mathrm{sd}(x_k)` for the slope on
    :math:`x_k` (a slope one scale unit away from 0 moves y by one sd(y) over one sd of
    :math:`x_k`; sds over the records with a phenotype). "us" takes
    ``HuangWand(3, A)`` (Huang & Wand 2013): an inverse-Wishart mixed over its scale whose
    marginals are exactly those half-t(3, :math:`A_k`) and whose correlations have density
    :math:`\propto (1 - \rho^2)^{1/2}`. Chosen over a fixed inverse-Wishart because the
    IW ties each variance to the correlations and, with few levels, pulls small variances
    up: the half-t keeps a variance near 0 plausible. "diag" takes ``HalfT(3, A_k)`` per
    coefficient. Under ``priors="bglr"``: ``IW(q + 3, (2q + 4) diag(s_k))`` (mode
    diag(s_k)) or ``ScaledInvChi2`` with mode :math:`s_k`, with :math:`s_0` the term's share
    of Var(y) and :math:`s_k = s_0/\mathrm{Var}(x_k)`.

    Sampling (one trait): each level's q coefficients are drawn jointly from their q x q
    full conditional (``bayesgen.kernels.random_regression``; O(records) per sweep, residual
    updated in place); for iid levels that is an exact draw of all of U at once. Then
    :math:`\Sigma \mid U` from the prior's conjugate update with :math:`SS = U'PU` and as
    many vectors as levels (``IW(\nu + L, S + U'PU)`` for an inverse-Wishart; per diagonal
    element for "diag"); then the rescaling move. The joint and collapsed location samplers
    take scalar variance ratios and do not include this term: under any ``sampler`` it runs
    its own single-site block; fixed, iid and pedigree terms next to it keep theirs.

    Recorded: ``<name>`` (dims ``<name>_level`` x ``<name>_coef``, coef = "(Intercept)" then
    the slope columns); "us": ``sigma2_<name>`` (dims ``<name>_coef_row`` x
    ``<name>_coef_col``) and ``rho_<name>`` (a scalar with q = 2, else the q x q correlation
    matrix); "diag": ``sigma2_<name>`` (dim ``<name>_coef``). For ``h2`` the term's variance is
    the average over the records with a phenotype of :math:`\mathrm{Var}(x_r'u) = x_r'\Sigma x_r`,
    i.e. :math:`\mathrm{tr}(\Sigma M)`, :math:`M = \overline{x_r x_r'}`. The pointwise
    log-likelihood conditions on this term's effects (it integrates out those of iid and
    pedigree terms only).
    """

    def __init__(self, column: str, slopes, covariance: str = "us", variance=None, name: str | None = None,
                 intercept: bool = True, pedigree: Pedigree | None = None, expand: bool = True):
        if not isinstance(column, str):
            raise TypeError(f"Random column must be a column name (str), got {column!r}.")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Random name must be a str, got {name!r}.")
        if isinstance(slopes, str):
            slopes = [slopes]
        if not isinstance(slopes, (list, tuple)) or not all(isinstance(s, str) for s in slopes):
            raise TypeError(f"slopes must be a list of column names (str), got {slopes!r}.")
        slopes = list(slopes)
        repeated = [s for k, s in enumerate(slopes) if s in slopes[:k]]
        if repeated:
            raise ValueError(f"slopes names column {repeated[0]!r} more than once: {slopes!r}.")
        if column in slopes:
            raise ValueError(f"Column {column!r} holds the levels; it cannot also be a slope covariate.")
        if not isinstance(covariance, str) or covariance not in COVARIANCES:
            raise ValueError(f"covariance must be one of {', '.join(map(repr, COVARIANCES))} "
                             f"(unstructured or diagonal), got {covariance!r}.")
        if not isinstance(intercept, (bool, np.bool_)):
            raise TypeError(f"intercept must be True or False, got {intercept!r}.")
        if not slopes:
            raise ValueError("slopes is empty: a random regression needs at least one slope column "
                             "(use Random(column) for a random intercept alone).")
        if pedigree is not None and not isinstance(pedigree, Pedigree):
            raise TypeError(f"pedigree must be a bayesgen.Pedigree, got {type(pedigree).__name__}.")
        if covariance == "us" and isinstance(variance, (list, tuple)) and any(
                isinstance(v, VariancePrior) for v in variance):
            # A list is otherwise read as a fixed matrix, and fails deep in float().
            q = len(slopes) + bool(intercept)
            raise TypeError(
                f"With covariance='us', variance must be one {q} x {q} prior on the covariance of "
                f"{([INTERCEPT] if intercept else []) + slopes!r} (InverseWishart(df, scale matrix), or "
                f"HuangWand(df, [A_0, ...]), whose standard deviations are half-t(df, A_k) and whose correlations "
                f"are sampled) or a fixed {q} x {q} matrix, got a list of {len(variance)} priors. For one prior per "
                "coefficient, without correlations, pass covariance='diag'.")
        self.column = column
        self.slopes = slopes
        self.covariance = covariance
        self.variance_prior_arg = variance
        self.name = name or column
        self.intercept = bool(intercept)
        self.pedigree = pedigree
        self.genetic = pedigree is not None
        self.expand = bool(expand)

    # ------------------------------------------------------------------ names
    @property
    def coefficients(self) -> list[str]:
        return ([INTERCEPT] if self.intercept else []) + list(self.slopes)

    @property
    def n_coefficients(self) -> int:
        return len(self.coefficients)

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

    # ------------------------------------------------------------------ binding
    def bind(self, context: BindContext) -> None:
        frame = context.frame
        require_columns(frame, [self.column] + self.slopes, "data")
        if context.n_traits != 1:
            raise ValueError(f"Random({self.column!r}, slopes={self.slopes!r}) fits one trait; the model has "
                             f"{context.n_traits} ({', '.join(context.traits)}).")
        response = [s for s in self.slopes if s in context.traits]
        if response:
            raise ValueError(f"The response {response[0]!r} cannot also be a slope covariate.")
        observed = context.observed[:, 0]
        covariates = [np.ones(len(frame))] if self.intercept else []
        covariates += [self._slope_values(frame, s, observed) for s in self.slopes]
        self._covariates = np.ascontiguousarray(np.column_stack(covariates), dtype=np.float64)

        record_levels = [normalize_id(v) for v in frame[self.column].tolist()]
        missing = [label for label, v in zip(frame.index, record_levels) if v is None]
        if missing:
            raise ValueError(f"Column {self.column!r} has missing levels in rows {preview(missing)}.")
        if self.pedigree is None:
            levels = list(dict.fromkeys(record_levels))
            self.levels = [levels[k] for k in np.argsort(id_labels(levels), kind="stable")]
            precision = sp.identity(len(self.levels), format="csr")
        else:
            known = self.pedigree._index
            absent = [a for a in dict.fromkeys(record_levels) if a not in known]
            if absent:
                raise KeyError(f"Animals in column {self.column!r} not found in the pedigree: {preview(absent)}.")
            self.levels = list(self.pedigree.ids)
            precision = self.pedigree.ainv()
        position = {lv: k for k, lv in enumerate(self.levels)}
        record_index = np.array([position[v] for v in record_levels], dtype=np.int64)
        n_levels = len(self.levels)
        order = np.argsort(record_index, kind="stable")
        self._record_index = record_index
        self._rec_idx = order.astype(np.int64)
        self._rec_ptr = np.searchsorted(record_index[order], np.arange(n_levels + 1)).astype(np.int64)
        self._warn_if_sigma_is_prior_driven(record_index, context.observed[:, 0], n_levels)
        precision = sp.csr_matrix(precision)
        precision.sort_indices()
        self.precision = precision
        self._prec = (precision.indptr.astype(np.int64), precision.indices.astype(np.int64),
                      precision.data.astype(np.float64))

        x_obs = self._covariates[observed]
        self._mean_outer = x_obs.T @ x_obs / max(x_obs.shape[0], 1)
        # Units of each coefficient: y per unit of its covariate.
        sd_x = np.array([1.0] * self.intercept + [x_obs[:, k].std(ddof=1) for k in range(self.intercept,
                                                                                     self.n_coefficients)])
        share = float(np.atleast_1d(context.default_share)[0]) / sd_x**2
        scale = float(context.phenotypic_sd[0]) / sd_x
        self._start = np.diag(share)
        self._set_priors(context.prior_rule, share, scale)

    def _warn_if_sigma_is_prior_driven(self, record_index: np.ndarray, observed: np.ndarray, n_levels: int) -> None:
        """Legal but worth a warning: with one level that has phenotyped records, or (iid levels)
        at most one phenotyped record per level, the data say next to nothing about Sigma."""
        counts = np.bincount(record_index[observed], minlength=n_levels)
        term = f"Random({self.column!r}, slopes={self.slopes!r})"
        if np.count_nonzero(counts) == 1:
            level = self.levels[int(np.flatnonzero(counts)[0])]
            warn_user(f"{term}: only level {level!r} of {self.column!r} has phenotyped records, so one coefficient "
                      f"vector informs the {self.n_coefficients} x {self.n_coefficients} covariance "
                      f"{self.variance_name}: its posterior is driven by the prior. A random regression needs "
                      "several levels.")
        elif self.pedigree is None and counts.max() <= 1:
            warn_user(f"{term}: no level of {self.column!r} has more than one phenotyped record, so a level's "
                      f"intercept and slopes cannot be told apart from the residual and {self.variance_name} is "
                      "driven by the prior. A random regression needs repeated records per level.")

    def _slope_values(self, frame: pd.DataFrame, column: str, observed: np.ndarray) -> np.ndarray:
        """A slope column as float64; errors name the column and the rows at fault."""
        values = frame[column]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_complex_dtype(values):
            bad = [(label, v) for label, v in zip(frame.index, values.tolist())
                   if isinstance(v, (str, bytes, bool, complex)) or not isinstance(v, (int, float, np.number))]
            where = f"; e.g. {bad[0][1]!r} in row {bad[0][0]!r}" if bad else ""
            raise TypeError(f"Slope column {column!r} must be numeric, got dtype {values.dtype}{where}.")
        x = values.to_numpy(dtype=np.float64)
        bad = ~np.isfinite(x)
        if bad.any():
            raise ValueError(f"Slope column {column!r} has missing or non-finite values in rows "
                             f"{preview(list(frame.index[bad]))}.")
        seen = x[observed]
        if seen.size < 2 or np.ptp(seen) == 0:
            value = f" (all {seen[0]:g})" if seen.size else ""
            raise ValueError(f"Slope column {column!r} is constant over the records with a phenotype{value}: "
                             "its slope cannot be told apart from the intercept.")
        return x

    def _set_priors(self, rule: str, share: np.ndarray, scale: np.ndarray) -> None:
        q = self.n_coefficients
        arg = self.variance_prior_arg
        if self.covariance == "us":
            default = covariance_prior_for(rule, share, scale)
            self.prior = as_variance_prior(arg, default, self.variance_name)
            self.prior.check_dim(q, self.variance_name)
            self.component_priors = None
            improper = self.prior.sampled and self.prior.improper_at_zero
        else:
            if arg is None:
                arg = [None] * q
            if isinstance(arg, VariancePrior) or not isinstance(arg, (list, tuple)) or len(arg) != q:
                raise ValueError(
                    f"With covariance='diag', variance must be a list of {q} priors or numbers (None for the "
                    f"default), one per coefficient {self.coefficients!r}; got {arg!r}.")
            priors = []
            for k, (coef, given) in enumerate(zip(self.coefficients, arg)):
                name = f"{self.variance_name}[{coef}]"
                prior = as_variance_prior(given, variance_prior_for(rule, float(share[k]), float(scale[k])), name)
                prior.check_dim(1, name)
                priors.append(prior)
            self.component_priors = priors
            self.prior = None
            improper = any(p.sampled and p.improper_at_zero for p in priors)
        if improper:
            warn_user(f"A prior on {self.variance_name} is not integrable at 0: the posterior of a random-effect "
                      f"variance is then improper ({self.n_levels} levels). Use proper priors.")

    @property
    def n_levels(self) -> int:
        return len(self.levels)

    def coords(self) -> list:
        return list(id_labels(self.levels))

    def incidence(self) -> sp.csr_matrix:
        """The design of vec(U') (records x levels*q): record r's covariates in its level's q columns."""
        n, q = self._covariates.shape
        cols = (self._record_index[:, None] * q + np.arange(q)).ravel()
        return sp.csr_matrix((self._covariates.ravel(), (np.repeat(np.arange(n), q), cols)),
                             shape=(n, self.n_levels * q))

    # ------------------------------------------------------------------ declared variables
    def variables(self) -> list[Variable]:
        coefs = self.coefficients
        out = [Variable(self.effect_name, (self.level_dim, self.coef_dim),
                        {self.level_dim: self.coords(), self.coef_dim: coefs}, high_dimensional=True)]
        if self.covariance == "diag":
            return out + [Variable(self.variance_name, (self.coef_dim,), {self.coef_dim: coefs})]
        rows, cols = f"{self.coef_dim}_row", f"{self.coef_dim}_col"
        matrix = {rows: coefs, cols: coefs}
        out.append(Variable(self.variance_name, (rows, cols), matrix))
        out.append(Variable(self.correlation_name) if len(coefs) == 2
                   else Variable(self.correlation_name, (rows, cols), matrix))
        return out

    def info_variables(self) -> list[Variable]:
        return [Variable(f"rescale_accept_{self.name}", group="sample_stats")] if self._rescales else []

    @property
    def _sampled(self) -> list[bool]:
        if self.prior is not None:
            return [self.prior.sampled]
        return [p.sampled for p in self.component_priors]

    @property
    def _rescales(self) -> bool:
        return self.expand and all(self._sampled)

    # ------------------------------------------------------------------ states
    def init_state(self, rng) -> dict:
        q = self.n_coefficients
        if self.prior is not None:
            sigma2 = np.array(self.prior.initial_value(self._start), dtype=np.float64).reshape(q, q)
            aux = self.prior.init_aux(rng)
            if self.prior.sampled:
                sigma2 = sigma2 * rng.uniform(0.5, 2.0)
        else:
            sigma2 = np.zeros((q, q))
            aux = []
            for k, prior in enumerate(self.component_priors):
                value = float(np.asarray(prior.initial_value(self._start[k, k])).reshape(-1)[0])
                sigma2[k, k] = value * rng.uniform(0.5, 2.0) if prior.sampled else value
                aux.append(prior.init_aux(rng))
        return {"u": np.zeros((self.n_levels, q)), "sigma2": sigma2, "prior_aux": aux}

    def draw_prior(self, rng, state) -> None:
        self._draw_covariance(rng, state, None)
        # U = L_P^-T Z L_Sigma': rows have covariance Sigma, columns P^-1.
        z = rng.standard_normal((self.n_levels, self.n_coefficients))
        chol_p = np.linalg.cholesky(self.precision.toarray())
        state["u"][:] = np.linalg.solve(chol_p.T, z) @ np.linalg.cholesky(state["sigma2"]).T

    def _draw_covariance(self, rng, state, sum_squares) -> None:
        """Sigma from its prior (``sum_squares`` None) or its full conditional given U'PU."""
        sigma2, aux = state["sigma2"], state["prior_aux"]
        if self.prior is not None:
            sigma2[:] = (self.prior.draw_prior(rng, aux) if sum_squares is None
                         else self.prior.draw_posterior(rng, sum_squares, self.n_levels, aux))
            return
        for k, prior in enumerate(self.component_priors):
            value = (prior.draw_prior(rng, aux[k]) if sum_squares is None
                     else prior.draw_posterior(rng, sum_squares[k, k], self.n_levels, aux[k]))
            sigma2[k, k] = float(np.asarray(value).reshape(-1)[0])

    # ------------------------------------------------------------------ updates
    def step(self, rng, state, ctx: StepContext) -> dict:
        sweep_random_regression(rng, state["u"], ctx.resid[:, 0], ctx.weights[:, 0], self._rec_ptr, self._rec_idx,
                                self._covariates, *self._prec, ctx.sigma2_e, np.linalg.inv(state["sigma2"]))
        self._draw_covariance(rng, state, quadratic_form_matrix(state["u"], *self._prec))
        if self._rescales:
            return {f"rescale_accept_{self.name}": float(self.rescale_move(rng, state, ctx))}
        return {}

    def _log_prior_given_aux(self, sigma2: np.ndarray, aux) -> float:
        if self.prior is not None:
            return self.prior.log_density(sigma2, aux)
        return sum(p.log_density(np.array([[sigma2[k, k]]]), aux[k]) for k, p in enumerate(self.component_priors))

    def rescale_move(self, rng, state, ctx: StepContext) -> bool:
        r"""Joint move :math:`(u_{\cdot c}, \Sigma) \to (k_c u_{\cdot c}, D\Sigma D)`, :math:`D = \mathrm{diag}(k)`, k > 0.

        The q-dimensional ``Random.rescale_move`` (a generalised Gibbs step on the scale group,
        Liu & Sabatti 2000; Haar measure :math:`\prod_c dk_c/k_c`). The map scales the L
        effects of each coefficient c by :math:`k_c` and :math:`\Sigma_{ab}` by
        :math:`k_a k_b`: Jacobian :math:`\prod_c k_c^{L + q + 1}` for an unstructured
        :math:`\Sigma` (its q(q+1)/2 free elements), :math:`\prod_c k_c^{L + 2}` for a diagonal
        one; the effects' prior contributes :math:`\prod_c k_c^{-L}`. The likelihood is
        Gaussian in k: with :math:`F_{rc} = x_{rc} u_{l(r)c}` and :math:`\tilde e = e + F1`,
        the proposal is :math:`k^* \sim N((F'WF)^{-1}F'W\tilde e,\; \sigma^2_e (F'WF)^{-1})`,
        accepted with probability :math:`\min(1, f(k^*)/f(1))`,
        :math:`f(k) = p(D\Sigma D)\prod_c k_c^{m}`, m = q ("us") or 1 ("diag"), p the prior
        density given its auxiliary variables (kept fixed). Cost O(records q^2).
        """
        u, sigma2 = state["u"], state["sigma2"]
        weights = ctx.weights[:, 0]
        resid = ctx.resid[:, 0]
        fits = self._covariates * u[self._record_index]
        weighted = fits * weights[:, None]
        gram = weighted.T @ fits
        if np.linalg.eigvalsh(gram).min() <= 1e-12 * max(np.trace(gram), 1e-300):
            return False
        chol = np.linalg.cholesky(gram)
        mean = np.linalg.solve(gram, weighted.T @ (resid + fits.sum(axis=1)))
        proposal = mean + np.sqrt(ctx.sigma2_e) * np.linalg.solve(chol.T, rng.standard_normal(mean.size))
        log_u = np.log(rng.random())
        if (proposal <= 0.0).any():
            return False
        power = self.n_coefficients if self.covariance == "us" else 1
        moved = sigma2 * np.outer(proposal, proposal)
        aux = state["prior_aux"]
        log_ratio = (self._log_prior_given_aux(moved, aux) - self._log_prior_given_aux(sigma2, aux)
                     + power * float(np.log(proposal).sum()))
        if log_u < log_ratio:
            resid -= fits @ (proposal - 1.0)
            u *= proposal
            sigma2[:] = moved
            return True
        return False

    # ------------------------------------------------------------------ outputs
    def fitted(self, state) -> np.ndarray:
        return np.einsum("rc,rc->r", self._covariates, state["u"][self._record_index])[:, None]

    def record(self, state, ctx) -> dict:
        sigma2 = state["sigma2"]
        out = {self.effect_name: state["u"].copy()}
        if self.covariance == "diag":
            out[self.variance_name] = np.diag(sigma2).copy()
            return out
        sd = np.sqrt(np.diag(sigma2))
        rho = sigma2 / np.outer(sd, sd)
        out[self.variance_name] = sigma2.copy()
        out[self.correlation_name] = float(rho[0, 1]) if self.n_coefficients == 2 else rho
        return out

    def variance(self, state):
        """Average variance the term adds to a record with a phenotype: tr(Sigma M) (1 x 1, see class)."""
        return np.array([[float(np.sum(state["sigma2"] * self._mean_outer))]])

    def log_prior(self, state) -> float:
        sigma2 = state["sigma2"]
        if self.prior is not None:
            return self.prior.log_density(sigma2) if self.prior.sampled else 0.0
        return sum(p.log_density(np.array([[sigma2[k, k]]])) for k, p in enumerate(self.component_priors)
                   if p.sampled)

    def priors(self) -> dict:
        if self.prior is not None:
            return {self.variance_name: self.prior.to_dict()}
        return {f"{self.variance_name}[{c}]": p.to_dict() for c, p in zip(self.coefficients, self.component_priors)}

    def describe(self) -> dict:
        return {"term": type(self).__name__, "name": self.name, "column": self.column, "slopes": list(self.slopes),
                "intercept": self.intercept, "covariance": self.covariance, "levels": self.n_levels,
                "pedigree": self.pedigree is not None, "prior": self.priors()}


def from_animal_arguments(args: tuple, kwargs: dict, slopes, covariance, maternal) -> RandomRegression:
    """The random-regression animal model from ``Animal(column, pedigree, variance, name, expand, slopes=...)``."""
    if slopes is None:
        raise ValueError(f"covariance={covariance!r} applies to random regressions: give the slope columns as "
                         "well, e.g. Animal(column, pedigree, slopes=['age']).")
    if maternal is not None:
        raise ValueError("Animal takes maternal= or slopes=, not both: random regressions of direct and maternal "
                         "effects are not available.")
    if len(args) > 5:
        raise TypeError(f"Animal takes at most 5 positional arguments, got {len(args)}.")
    named = dict(zip(("column", "pedigree", "variance", "name", "expand"), args))
    clash = sorted(set(named) & set(kwargs))
    if clash:
        raise TypeError(f"Animal got multiple values for argument {clash[0]!r}.")
    named.update(kwargs)
    if not isinstance(named.get("pedigree"), Pedigree):
        raise TypeError(f"pedigree must be a bayesgen.Pedigree, got {type(named.get('pedigree')).__name__}.")
    named.setdefault("name", "animal")
    return RandomRegression(slopes=slopes, covariance="us" if covariance is None else covariance, **named)
