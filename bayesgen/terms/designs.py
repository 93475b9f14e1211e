r"""How the records of a random term load on its levels: the design of a location term.

A :class:`bayesgen.terms.random.Random` term (and its pedigree and kernel forms) has levels
with a prior precision among them; its *design* says how a record's linear predictor takes
the levels' coefficients, and so how many coefficients a level has (c), which single-site
kernel draws them, what is recorded and what the term adds to the phenotypic variance:

* :class:`Intercept` (c = 1): record r gets :math:`z_r u_{l(r)}` (one level per record, z = 1),
  or a dense loading on every level (a kernel's eigen route). Any number of traits.
* :class:`Slopes` (c = q): a random regression, record r gets :math:`x_r'u_{l(r)}` with
  :math:`x_r` = (1, covariates). One trait.
* :class:`DirectMaternal` (c = 2): record r of animal i with dam m gets
  :math:`a_{d,i} + a_{m,m}` (Willham 1963). One trait.

A new way of loading on levels is a new class here with the same methods.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._user_warnings import warn_user
from .._validation import normalize_id, normalize_parent, preview, require_columns
from ..kernels.maternal import sweep_direct_maternal
from ..kernels.random_effects import (
    sweep_random_effects,
    sweep_random_effects_multitrait,
    sweep_random_effects_quadratic,
)
from ..kernels.random_regression import sweep_random_regression
from ..variable import Variable

#: Coordinate of the intercept among a random regression's coefficients.
INTERCEPT = "(Intercept)"
#: Coordinates of the two effects of every animal in the direct-maternal model.
EFFECTS = ["direct", "maternal"]
#: The covariance structures of (intercept, slopes).
COVARIANCES = ("us", "diag")


def records_by_level(level_of_record: np.ndarray, n_levels: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR-like (ptr, idx): the records of level k are idx[ptr[k]:ptr[k+1]]; level -1 = none."""
    keep = np.flatnonzero(level_of_record >= 0)
    order = keep[np.argsort(level_of_record[keep], kind="stable")]
    ptr = np.searchsorted(level_of_record[order], np.arange(n_levels + 1)).astype(np.int64)
    return ptr, order.astype(np.int64)


class Layout:
    """What every design provides (see the module docstring); the columns check is shared."""

    #: Data columns the design reads besides the term's own column.
    columns: list = []
    #: A random regression's slope columns and covariance structure (None for other designs).
    slopes = None
    covariance = None

    def check_columns(self, frame: pd.DataFrame, term) -> None:
        """An error naming every column the term and its design read that ``frame`` lacks."""
        require_columns(frame, [term.column] + list(self.columns), "data")

    def check_variance(self, variance) -> None:
        """An error for a prior argument this design cannot take (at construction)."""


class Intercept(Layout):
    r"""One coefficient per level: record r gets :math:`z_r u_{l(r)}`.

    Single-site sweep: each level's t-vector from its full conditional (one trait:
    ``sweep_random_effects``; several: ``sweep_random_effects_multitrait``). With a dense
    loading (``use_dense``) every record loads on every level with the given values.
    """

    coefficient_names = [None]
    diagonal = False

    def bind(self, term, context, record_index: np.ndarray) -> None:
        self.n_traits = context.n_traits
        n_levels = term.n_levels
        self.record_index = record_index
        order = np.argsort(record_index, kind="stable")
        self.rec_idx = order.astype(np.int64)
        self.rec_ptr = np.searchsorted(record_index[order], np.arange(n_levels + 1)).astype(np.int64)
        self.rec_z = np.ones(order.size)
        self.dense = None
        self._weighted_counts = np.bincount(record_index, weights=context.weights[:, 0], minlength=n_levels)

    def use_dense(self, loadings: np.ndarray, weights: np.ndarray) -> None:
        """Records load on every level with ``loadings`` (records x levels) instead (stored as CSR of Z')."""
        n, r = loadings.shape
        self.dense = np.asfortranarray(loadings)
        self.record_index = None
        self.rec_ptr = np.arange(r + 1, dtype=np.int64) * n
        self.rec_idx = np.tile(np.arange(n, dtype=np.int64), r)
        self.rec_z = np.ascontiguousarray(loadings.T).ravel()
        self._weighted_counts = np.einsum("ij,i,ij->j", loadings, weights[:, 0], loadings)

    @property
    def one_level_per_record(self) -> bool:
        return self.record_index is not None

    def incidence(self, n_levels: int) -> sp.csr_matrix:
        if self.dense is not None:
            return sp.csr_matrix(self.dense)
        n = self.record_index.size
        return sp.csr_matrix((np.ones(n), (np.arange(n), self.record_index)), shape=(n, n_levels))

    def fit_of(self, u: np.ndarray) -> np.ndarray:
        return self.dense @ u if self.dense is not None else u[self.record_index]

    def sweep(self, rng, u, ctx, precision_arrays, split, sigma):
        """Draw every level's effects given :math:`\\Sigma`; returns :math:`U'PU` when computed on the way."""
        if self.n_traits == 1:
            args = (
                rng,
                u[:, 0],
                ctx.resid[:, 0],
                ctx.weights[:, 0],
                self.rec_ptr,
                self.rec_idx,
                self.rec_z,
                self._weighted_counts,
                *precision_arrays,
            )
            if split is not None:
                return np.full((1, 1), sweep_random_effects_quadratic(*args, split, ctx.sigma2_e, float(sigma[0, 0])))
            sweep_random_effects(*args, ctx.sigma2_e, float(sigma[0, 0]))
            return None
        sweep_random_effects_multitrait(
            rng,
            u,
            ctx.resid,
            ctx.weights,
            self.rec_ptr,
            self.rec_idx,
            self.rec_z,
            *precision_arrays,
            np.linalg.inv(ctx.residual_covariance),
            np.linalg.inv(sigma),
        )
        return None

    def translation_covariates(self) -> np.ndarray | None:
        return np.ones((self.record_index.size, 1)) if self.one_level_per_record else None

    def own_levels(self) -> np.ndarray | None:
        return self.record_index

    def default_scales(self, context) -> tuple[np.ndarray, np.ndarray]:
        """(share, half-t scale) of each element of :math:`\\Sigma` (its traits)."""
        return (np.atleast_1d(context.default_share).astype(float), np.atleast_1d(context.phenotypic_sd).astype(float))

    def phenotypic_variance(self, sigma: np.ndarray) -> np.ndarray:
        return sigma

    def genetic_variance(self, sigma: np.ndarray) -> np.ndarray:
        return sigma

    def variables(self, term) -> list[Variable]:
        coords = {term.level_dim: term.coords()}
        if self.n_traits == 1:
            return [
                Variable(term.effect_name, (term.level_dim,), coords, high_dimensional=True),
                Variable(term.variance_name),
            ]
        traits = term.traits
        coords["trait"] = traits
        matrix = {"trait_row": traits, "trait_col": traits}
        return [
            Variable(term.effect_name, (term.level_dim, "trait"), coords, high_dimensional=True),
            Variable(term.variance_name, ("trait_row", "trait_col"), matrix),
            Variable(term.correlation_name, ("trait_row", "trait_col"), matrix),
        ]

    def record(self, term, effects: np.ndarray, sigma: np.ndarray) -> dict:
        if self.n_traits == 1:
            return {term.effect_name: effects[:, 0].copy(), term.variance_name: sigma[0, 0]}
        sd = np.sqrt(np.diag(sigma))
        return {
            term.effect_name: effects.copy(),
            term.variance_name: sigma.copy(),
            term.correlation_name: sigma / np.outer(sd, sd),
        }


class Slopes(Layout):
    r"""A random regression: per level an intercept and slopes on covariates, record r gets :math:`x_r'u_{l(r)}`.

    :math:`\Sigma` (q x q) is unstructured (``structure="us"``) or diagonal (``"diag"``).
    Single-site sweep: each level's q coefficients jointly from their q x q full conditional
    (``bayesgen.kernels.random_regression``). For ``h2`` the term adds to a record with a
    phenotype :math:`x_r'\Sigma x_r` on average, :math:`\mathrm{tr}(\Sigma M)` with
    :math:`M = \overline{x_r x_r'}`.
    """

    def __init__(self, slopes, covariance: str = "us", intercept: bool = True, column: str | None = None):
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
            raise ValueError(
                f"structure must be one of {', '.join(map(repr, COVARIANCES))} "
                f"(unstructured or diagonal), got {covariance!r}."
            )
        if not isinstance(intercept, (bool, np.bool_)):
            raise TypeError(f"intercept must be True or False, got {intercept!r}.")
        if not slopes:
            raise ValueError(
                "slopes is empty: a random regression needs at least one slope column "
                "(use Random(column) for a random intercept alone)."
            )
        self.slopes, self.covariance, self.intercept = slopes, covariance, bool(intercept)
        self.coefficient_names = ([INTERCEPT] if self.intercept else []) + slopes
        self.columns = list(slopes)
        self.diagonal = covariance == "diag"

    def check_variance(self, variance) -> None:
        from ..priors.base import VariancePrior

        if (
            self.covariance == "us"
            and isinstance(variance, (list, tuple))
            and any(isinstance(v, VariancePrior) for v in variance)
        ):
            # A list is otherwise read as a fixed matrix, and fails deep in float().
            q = len(self.coefficient_names)
            raise TypeError(
                f"With structure='us', prior must be one {q} x {q} prior on the covariance of "
                f"{self.coefficient_names!r} (InverseWishart(df, scale matrix), or "
                f"HuangWand(df, [A_0, ...]), whose standard deviations are half-t(df, A_k) and whose correlations "
                f"are sampled) or a fixed {q} x {q} matrix, got a list of {len(variance)} priors. For one prior per "
                "coefficient, without correlations, pass structure='diag'."
            )

    def bind(self, term, context, record_index: np.ndarray) -> None:
        frame = context.frame
        if context.n_traits != 1:
            raise ValueError(
                f"Random({term.column!r}, slopes={self.slopes!r}) fits one trait; the model has "
                f"{context.n_traits} ({', '.join(context.traits)})."
            )
        response = [s for s in self.slopes if s in context.traits]
        if response:
            raise ValueError(f"The response {response[0]!r} cannot also be a slope covariate.")
        observed = context.observed[:, 0]
        covariates = [np.ones(len(frame))] if self.intercept else []
        covariates += [_slope_values(frame, s, observed) for s in self.slopes]
        self.covariates = np.ascontiguousarray(np.column_stack(covariates), dtype=np.float64)
        self.record_index = record_index
        order = np.argsort(record_index, kind="stable")
        self.rec_idx = order.astype(np.int64)
        self.rec_ptr = np.searchsorted(record_index[order], np.arange(term.n_levels + 1)).astype(np.int64)
        self._warn_if_sigma_is_prior_driven(term, record_index, observed)
        x_obs = self.covariates[observed]
        self.mean_outer = x_obs.T @ x_obs / max(x_obs.shape[0], 1)
        q = len(self.coefficient_names)
        self._sd_x = np.array([1.0] * self.intercept + [x_obs[:, k].std(ddof=1) for k in range(self.intercept, q)])
        self.n_levels_of_term = term.n_levels

    def _warn_if_sigma_is_prior_driven(self, term, record_index: np.ndarray, observed: np.ndarray) -> None:
        """Legal but worth a warning: with one level that has phenotyped records, or (iid levels)
        at most one phenotyped record per level, the data say next to nothing about Sigma."""
        counts = np.bincount(record_index[observed], minlength=term.n_levels)
        call = f"Random({term.column!r}, slopes={self.slopes!r})"
        q = len(self.coefficient_names)
        if np.count_nonzero(counts) == 1:
            level = term.levels[int(np.flatnonzero(counts)[0])]
            warn_user(
                f"{call}: only level {level!r} of {term.column!r} has phenotyped records, so one coefficient "
                f"vector informs the {q} x {q} covariance {term.variance_name}: its posterior is driven by the "
                "prior. A random regression needs several levels."
            )
        elif not term.genetic and counts.max() <= 1:
            warn_user(
                f"{call}: no level of {term.column!r} has more than one phenotyped record, so a level's "
                f"intercept and slopes cannot be told apart from the residual and {term.variance_name} is "
                "driven by the prior. A random regression needs repeated records per level."
            )

    def incidence(self, n_levels: int) -> sp.csr_matrix:
        """The design of vec(U') (records x levels*q): record r's covariates in its level's q columns."""
        n, q = self.covariates.shape
        cols = (self.record_index[:, None] * q + np.arange(q)).ravel()
        return sp.csr_matrix((self.covariates.ravel(), (np.repeat(np.arange(n), q), cols)), shape=(n, n_levels * q))

    def fit_of(self, u: np.ndarray) -> np.ndarray:
        return np.einsum("rc,rc->r", self.covariates, u[self.record_index])[:, None]

    def sweep(self, rng, u, ctx, precision_arrays, split, sigma):
        sweep_random_regression(
            rng,
            u,
            ctx.resid[:, 0],
            ctx.weights[:, 0],
            self.rec_ptr,
            self.rec_idx,
            self.covariates,
            *precision_arrays,
            ctx.sigma2_e,
            np.linalg.inv(sigma),
        )
        return None

    def translation_covariates(self) -> np.ndarray:
        return self.covariates

    def own_levels(self) -> None:
        return None

    def default_scales(self, context) -> tuple[np.ndarray, np.ndarray]:
        """Each coefficient in its own units (y per unit of its covariate): share s / sd(x)^2, scale sd(y) / sd(x)."""
        share = float(np.atleast_1d(context.default_share)[0]) / self._sd_x**2
        scale = float(context.phenotypic_sd[0]) / self._sd_x
        return share, scale

    def phenotypic_variance(self, sigma: np.ndarray) -> np.ndarray:
        return np.array([[float(np.sum(sigma * self.mean_outer))]])

    def genetic_variance(self, sigma: np.ndarray) -> np.ndarray:
        return self.phenotypic_variance(sigma)

    def variables(self, term) -> list[Variable]:
        coefs = self.coefficient_names
        out = [
            Variable(
                term.effect_name,
                (term.level_dim, term.coef_dim),
                {term.level_dim: term.coords(), term.coef_dim: coefs},
                high_dimensional=True,
            )
        ]
        if self.diagonal:
            return out + [Variable(term.variance_name, (term.coef_dim,), {term.coef_dim: coefs})]
        rows, cols = f"{term.coef_dim}_row", f"{term.coef_dim}_col"
        matrix = {rows: coefs, cols: coefs}
        out.append(Variable(term.variance_name, (rows, cols), matrix))
        out.append(
            Variable(term.correlation_name)
            if len(coefs) == 2
            else Variable(term.correlation_name, (rows, cols), matrix)
        )
        return out

    def record(self, term, effects: np.ndarray, sigma: np.ndarray) -> dict:
        out = {term.effect_name: effects.copy()}
        if self.diagonal:
            out[term.variance_name] = np.diag(sigma).copy()
            return out
        sd = np.sqrt(np.diag(sigma))
        rho = sigma / np.outer(sd, sd)
        out[term.variance_name] = sigma.copy()
        out[term.correlation_name] = float(rho[0, 1]) if len(self.coefficient_names) == 2 else rho
        return out


def _slope_values(frame: pd.DataFrame, column: str, observed: np.ndarray) -> np.ndarray:
    """A slope column as float64; errors name the column and the rows at fault."""
    values = frame[column]
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_complex_dtype(values):
        bad = [
            (label, v)
            for label, v in zip(frame.index, values.tolist())
            if isinstance(v, (str, bytes, bool, complex)) or not isinstance(v, (int, float, np.number))
        ]
        where = f"; e.g. {bad[0][1]!r} in row {bad[0][0]!r}" if bad else ""
        raise TypeError(f"Slope column {column!r} must be numeric, got dtype {values.dtype}{where}.")
    x = values.to_numpy(dtype=np.float64)
    bad = ~np.isfinite(x)
    if bad.any():
        raise ValueError(
            f"Slope column {column!r} has missing or non-finite values in rows {preview(list(frame.index[bad]))}."
        )
    seen = x[observed]
    if seen.size < 2 or np.ptp(seen) == 0:
        value = f" (all {seen[0]:g})" if seen.size else ""
        raise ValueError(
            f"Slope column {column!r} is constant over the records with a phenotype{value}: "
            "its slope cannot be told apart from the intercept."
        )
    return x


class DirectMaternal(Layout):
    r"""Each animal's direct and maternal effects: record r of animal i with dam m gets :math:`a_{d,i} + a_{m,m}`.

    A record whose dam is unknown (NaN, 0, "NA", ... as in a pedigree) gets no maternal effect.
    The dam in the data need not be the genetic dam of the pedigree (foster mothers), but every
    dam needs her own id in the pedigree. Single-site sweep: each animal's (direct, maternal)
    pair from its 2 x 2 full conditional (``bayesgen.kernels.maternal``). For ``h2`` the term
    adds :math:`\sigma^2_d + \sigma_{dm} + \sigma^2_m` to the phenotypic variance, of which
    :math:`\sigma^2_d` is genetic (direct heritability).
    """

    coefficient_names = list(EFFECTS)
    diagonal = False

    def __init__(self, maternal: str, column: str):
        if not isinstance(maternal, str):
            raise TypeError(
                f"maternal must be the name of the column holding each record's dam (str), got {maternal!r}."
            )
        if maternal == column:
            raise ValueError(f"maternal={maternal!r} is the animal column itself; it must name the column of dams.")
        self.maternal = maternal
        self.columns = [maternal]

    def check_columns(self, frame: pd.DataFrame, term) -> None:
        for role, col in (("animal", term.column), ("maternal (dam)", self.maternal)):
            if col not in frame.columns:
                raise ValueError(
                    f"The {role} column {col!r} of Animal({term.column!r}, maternal={self.maternal!r}) "
                    f"is not in data; its columns are {preview(list(frame.columns))}."
                )

    def bind(self, term, context, record_index: np.ndarray) -> None:
        frame = context.frame
        if context.n_traits != 1:
            raise ValueError(
                f"Animal(maternal={self.maternal!r}) fits one trait; the model has "
                f"{context.n_traits} ({', '.join(context.traits)})."
            )
        known = {level: k for k, level in enumerate(term.levels)}
        dams = [normalize_parent(v) for v in frame[self.maternal].tolist()]
        absent = [d for d in dict.fromkeys(dams) if d is not None and d not in known]
        if absent:
            raise ValueError(
                f"Dams in column {self.maternal!r} not found in the pedigree: {preview(absent)}. A maternal "
                "effect needs each dam's own id in the pedigree (add missing dams as founders with unknown parents)."
            )
        animals = [normalize_id(v) for v in frame[term.column].tolist()]
        own_of_dam = [label for label, a, d in zip(frame.index, animals, dams) if a == d]
        if own_of_dam:
            raise ValueError(f"Rows {preview(own_of_dam)} name the animal as its own dam in column {self.maternal!r}.")
        self.n_dams = len({d for d in dams if d is not None})
        if self.n_dams == 0:
            raise ValueError(f"Column {self.maternal!r} has no known dam: no record would get a maternal effect.")
        self._warn_if_not_dams(term, {known[d] for d in dams if d is not None})
        q = term.n_levels
        self.own_index = record_index
        self.dam_index = np.array([known[d] if d is not None else -1 for d in dams], dtype=np.int64)
        self.own_ptr, self.own_idx = records_by_level(self.own_index, q)
        self.dam_ptr, self.dam_idx = records_by_level(self.dam_index, q)
        self._has_dam = self.dam_index >= 0

    def _warn_if_not_dams(self, term, given: set) -> None:
        """Legal but worth a warning: the column named by ``maternal`` holds the pedigree's
        sires more than its dams (e.g. ``maternal="sire"``), so the "maternal" effect is a
        father's."""
        ped = term.pedigree
        as_sires = len(given & set(ped.sire[ped.sire >= 0].tolist()))
        as_dams = len(given & set(ped.dam[ped.dam >= 0].tolist()))
        named_for_sires = self.maternal.strip().lower() in ("sire", "sires", "father", "fathers")
        if as_sires > as_dams or (named_for_sires and as_dams == 0):
            warn_user(
                f"Animal({term.column!r}, maternal={self.maternal!r}): of the {len(given)} parents in column "
                f"{self.maternal!r}, {as_sires} are sires and {as_dams} dams in the pedigree. A maternal effect is "
                "what a mother gives her offspring beyond her genes: maternal= names the column of each record's "
                "dam (or foster mother). Fitting a sire's effect this way is legal but is not a maternal model."
            )

    def incidence(self, n_levels: int) -> sp.csr_matrix:
        """Records x 2q, columns (animal, effect): a 1 at (own animal, direct) and (dam, maternal)."""
        n = self.own_index.size
        has_dam = np.flatnonzero(self._has_dam)
        rows = np.concatenate([np.arange(n), has_dam])
        cols = np.concatenate([2 * self.own_index, 2 * self.dam_index[has_dam] + 1])
        return sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, 2 * n_levels))

    def fit_of(self, u: np.ndarray) -> np.ndarray:
        out = u[self.own_index, 0].copy()
        out[self._has_dam] += u[self.dam_index[self._has_dam], 1]
        return out[:, None]

    def sweep(self, rng, u, ctx, precision_arrays, split, sigma):
        sweep_direct_maternal(
            rng,
            u,
            ctx.resid[:, 0],
            ctx.weights[:, 0],
            self.own_ptr,
            self.own_idx,
            self.dam_ptr,
            self.dam_idx,
            *precision_arrays,
            ctx.sigma2_e,
            np.linalg.inv(sigma),
        )
        return None

    def translation_covariates(self) -> np.ndarray:
        """(1, has a dam): the direct effect sits on every record, the maternal one on records with a dam."""
        return np.column_stack([np.ones(self.own_index.size), self._has_dam.astype(np.float64)])

    def own_levels(self) -> None:
        return None

    def default_scales(self, context) -> tuple[np.ndarray, np.ndarray]:
        share = float(np.atleast_1d(context.default_share)[0])
        sd = float(context.phenotypic_sd[0])
        return np.array([share, share]), np.array([sd, sd])

    def phenotypic_variance(self, sigma: np.ndarray) -> np.ndarray:
        """sigma2_d + sigma_dm + sigma2_m (1 x 1)."""
        return np.array([[sigma[0, 0] + sigma[0, 1] + sigma[1, 1]]])

    def genetic_variance(self, sigma: np.ndarray) -> np.ndarray:
        """The direct variance sigma2_d (1 x 1): what counts as genetic in ``h2``."""
        return sigma[:1, :1].copy()

    def variables(self, term) -> list[Variable]:
        effects = {term.level_dim: term.coords(), "effect": EFFECTS}
        matrix = {"effect_row": EFFECTS, "effect_col": EFFECTS}
        return [
            Variable(term.effect_name, (term.level_dim, "effect"), effects, high_dimensional=True),
            Variable(term.variance_name, ("effect_row", "effect_col"), matrix),
            Variable(term.correlation_name),
        ]

    def record(self, term, effects: np.ndarray, sigma: np.ndarray) -> dict:
        return {
            term.effect_name: effects.copy(),
            term.variance_name: sigma.copy(),
            term.correlation_name: float(sigma[0, 1] / np.sqrt(sigma[0, 0] * sigma[1, 1])),
        }
