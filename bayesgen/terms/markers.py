"""Marker (SNP) effects under a Bayesian-alphabet prior, swept over int8 or packed genotypes."""

from __future__ import annotations

import numpy as np

from .._user_warnings import warn_user
from .._validation import normalize_ids, require_columns
from ..data._genotype_kernels import packed_width, repack_columns
from ..data.genotypes import Genotypes
from ..kernels.fast_blocks import block_cross_products, missing_genotype_lists, sweep_markers_blocked
from ..kernels.markers import marker_code_stats, weighted_cross_products
from ..kernels.markers_multitrait import genetic_values
from ..priors.bayes_a import BayesAPrior
from ..priors.marker_prior import MarkerPrior
from .base import BindContext, Term, Variable
from .scaling import GroupScaling

#: Marker priors a user can pass, for error messages.
MARKER_PRIORS = ("BayesAPrior", "BayesBPrior", "BayesCPrior", "BayesRPrior", "LassoPrior", "RidgePrior")
#: Marker priors with a t-trait form (``MarkerPrior.several_traits``), for error messages.
SEVERAL_TRAIT_PRIORS = ("RidgePrior", "BayesCPrior")


class Markers(Term):
    r"""Marker effects :math:`W\alpha` of genotyped individuals.

    Parameters
    ----------
    column : str
        Column of the data with each record's individual id (must be in ``genotypes``).
    genotypes : Genotypes
    prior : MarkerPrior, default ``BayesAPrior()``
        The prior on the effects; it chooses the sweep kernel and updates its
        hyperparameters between sweeps (see :class:`bayesgen.priors.MarkerPrior`).
    name : str, default "markers"
        With the default name the draws are ``alpha`` (dim ``marker``), ``var_g`` and the
        prior's own parameters (``scale``, ...); another name gives ``alpha_<name>`` (dim
        ``<name>_marker``), ``var_<name>`` and ``scale_<name>``, so a model can hold
        several marker panels.
    expand : bool, default True
        After each sweep, rescale the effects jointly with the prior's sampled hyperparameter
        (see ``MarkerScaleAction``): BayesA's and BayesB's (σ²ⱼ, S²), the LASSO's (τ²ⱼ, λ²), the common
        σ²_α of BRR, BayesC and BayesR. It leaves the posterior unchanged and lets the hyperparameter, ``var_g`` and
        ``h2`` mix when p >> n. Priors whose hyperparameters are fixed have no such move.
    block_size : int or None, default None
        Sweep the markers in consecutive blocks of this many with the exact blocked sampler
        (``bayesgen.kernels.fast_blocks``): the same full conditionals as the plain sweep,
        with each block's :math:`X_b'WX_b` stored (p x block_size floats, computed once per
        model) so that the residual is read and updated once per block instead of once per
        marker. For priors that use the Gaussian sweep (BayesA, BRR, BayesLasso). Pays off
        for many records (n in the thousands and more).
    block_passes : int, default 1
        Sweeps over each block's small system per visit (each one an exact Gibbs update of
        the block's effects); more passes cost O(block_size) per marker each.

    Notes
    -----
    Genotypes are centred by twice the allele frequency over all genotyped individuals.
    ``var_g`` is the variance of the genomic values :math:`W\alpha` over the records with
    a phenotype (as BGLR), a quantity derived from each draw and not a parameter of the model
    (hence ``var_``, not ``sigma2_``; it was ``sigma2_g`` before 0.2). Counts as genetic in ``h2``.

    With t traits the effects are a (markers x traits) matrix A under a prior with a t-trait form
    (``RidgePrior``, ``BayesCPrior``: rows :math:`\alpha_j \sim N(0, \Sigma_\alpha)`, one t x t
    common variance; for one trait it is 1 x 1 and the one-trait kernels are the fast path of the
    same sweep). Records with any trait observed enter with all of them (the residual augments
    the rest). The draws are then ``alpha`` (dims marker x trait), ``var_g`` (the t x t
    covariance of the genomic values over the records with a phenotype, its diagonal counting as
    genetic in ``h2``), ``cor_g`` (its correlations) and the prior's ``sigma2_alpha`` (t x t);
    another name gives ``cor_<name>`` too. ``expand`` then has no effect and ``block_size`` is an error.
    """

    genetic = True
    predicts = "genotypes"
    n_traits = 1  # set by bind

    def __init__(
        self,
        column: str,
        genotypes: Genotypes,
        prior: MarkerPrior | None = None,
        name: str = "markers",
        expand: bool = True,
        block_size: int | None = None,
        block_passes: int = 1,
    ):
        if not isinstance(genotypes, Genotypes):
            raise TypeError(f"genotypes must be a bayesgen.Genotypes, got {type(genotypes).__name__}.")
        prior = prior if prior is not None else BayesAPrior()
        if not isinstance(prior, MarkerPrior):
            raise TypeError(
                f"Markers prior must be a marker prior ({', '.join(MARKER_PRIORS)}), got {prior!r}; "
                "variance priors such as ScaledInvChi2 apply to random and animal terms."
            )
        self.column = column
        self.genotypes = genotypes
        self.prior = prior
        self.name = name
        if not isinstance(expand, (bool, np.bool_)):
            raise TypeError(f"Markers expand must be True or False, got {expand!r}.")
        self.expand = bool(expand)
        if block_size is not None:
            if not _is_positive_int(block_size):
                raise ValueError(f"Markers block_size must be a positive integer or None, got {block_size!r}.")
            if not prior.gaussian_sweep:
                raise ValueError(
                    f"Markers block_size applies to priors drawn by the Gaussian sweep (BayesAPrior, RidgePrior, "
                    f"LassoPrior); {type(prior).__name__} has its own sweep."
                )
        if not _is_positive_int(block_passes):
            raise ValueError(f"Markers block_passes must be a positive integer, got {block_passes!r}.")
        self.block_size = None if block_size is None else int(block_size)
        self.block_passes = int(block_passes)

    def _name(self, default: str, stem: str) -> str:
        return default if self.name == "markers" else f"{stem}_{self.name}"

    @property
    def effect_name(self) -> str:
        return self._name("alpha", "alpha")

    @property
    def variance_name(self) -> str:
        # Derived (the variance of W alpha over the phenotyped records), so not sigma2_: that prefix is
        # for parameters (GBLUP's kernel g records the parameter sigma2_g).
        return "var_g" if self.name == "markers" else f"var_{self.name}"

    @property
    def correlation_name(self) -> str:
        return "cor_g" if self.name == "markers" else f"cor_{self.name}"

    @property
    def marker_dim(self) -> str:
        return "marker" if self.name == "markers" else f"{self.name}_marker"

    def bind(self, context: BindContext) -> None:
        """Everything fixed once the model is bound: the records' genotypes, :math:`x_j'Wx_j`, the
        codes' statistics the sweeps read, the blocked sweep's Gram matrices, and the prior's defaults."""
        t = context.n_traits
        if t > 1 and self.block_size is not None:
            raise ValueError(f"Markers {self.name!r}: block_size is for one trait; with several traits leave it None.")
        if t > 1 and not self.prior.several_traits:
            raise ValueError(
                f"Markers {self.name!r}: with several traits the marker prior must be one of "
                f"{', '.join(SEVERAL_TRAIT_PRIORS)}; got {type(self.prior).__name__}, which is for one trait only."
            )
        require_columns(context.frame, [self.column], "data")
        ids = normalize_ids(context.frame[self.column].tolist(), f"Column {self.column!r}")
        rows = self.genotypes.index(ids)
        codes = self.genotypes.stored_codes  # int8, or packed 2 bits each (the kernels read either)
        n_genotyped = self.genotypes.n_individuals
        if rows.size == n_genotyped and codes.flags.c_contiguous and np.array_equal(rows, np.arange(rows.size)):
            self.codes = codes  # records in genotype order: share the matrix (only read)
        elif self.genotypes.packed:  # packed again, markers x records: never an int8 copy
            self.codes = np.empty((codes.shape[0], packed_width(rows.size)), dtype=np.uint8)
            repack_columns(codes, n_genotyped, rows.astype(np.int64), self.codes)
        else:
            self.codes = np.take(codes, rows, axis=1)  # int8, markers x records, one C-ordered copy
        #: Records the codes cover (their columns; packed codes do not say it by their shape).
        self.n_records = rows.size
        self.lookup = self.genotypes.centred_lookup()
        self.n_traits = t
        self.traits = list(context.traits)
        # Records with any trait observed (with several traits the residual completes the others).
        self._phenotyped = context.observed.any(axis=1)
        weights = self._phenotyped.astype(np.float64)
        sum_x, self.xx = weighted_cross_products(self.codes, self.lookup, weights)
        n_obs = max(int(self._phenotyped.sum()), 1)
        var_x = self.xx / n_obs - (sum_x / n_obs) ** 2
        var_x[var_x <= 1e-10 * self.xx / n_obs] = 0.0  # rounding of a constant column is not variation
        sum_var_x = float(np.sum(var_x))
        if sum_var_x <= 0:
            warn_user(
                f"No phenotyped record of {self.name!r} has an observed genotype, or none varies: the markers "
                "cannot explain anything, so var_g and h2 will be 0."
            )
        self.code_stats = marker_code_stats(self.codes, self.n_records)
        if self.block_size is not None:
            self._gram = block_cross_products(self.codes, self.lookup, weights, min(self.block_size, self.n_markers))
            self._missing = missing_genotype_lists(self.codes, self.n_records)
        # BGLR's rule per trait: a priori the markers explain their share of Var(y_k), spread evenly.
        share = np.atleast_1d(np.asarray(context.default_share, dtype=np.float64))
        self.prior.bind_traits(
            share / max(sum_var_x, 1e-12), self.traits, self._name("sigma2_alpha", "sigma2_alpha"), self.n_markers
        )

    @property
    def n_markers(self) -> int:
        return self.codes.shape[0]

    def variables(self) -> list[Variable]:
        coords = {self.marker_dim: self.genotypes.markers}
        inclusion = self.prior.spike_and_slab
        if self.n_traits == 1:
            out = [
                Variable(self.effect_name, (self.marker_dim,), coords, high_dimensional=True, inclusion=inclusion),
                Variable(self.variance_name),
            ]
        else:
            coords["trait"] = self.traits
            matrix = {"trait_row": self.traits, "trait_col": self.traits}
            out = [
                Variable(
                    self.effect_name, (self.marker_dim, "trait"), coords, high_dimensional=True, inclusion=inclusion
                ),
                Variable(self.variance_name, ("trait_row", "trait_col"), matrix),
                Variable(self.correlation_name, ("trait_row", "trait_col"), matrix),
            ]
        for v in self.prior.variables():
            out.append(Variable(self._name(v.name, v.name), v.dims, v.coords, v.high_dimensional, v.group))
        return out

    def init_state(self, rng) -> dict:
        """The effects A (markers x t), the genomic values XA (records x t, columns contiguous) and the prior's state."""
        return {
            "alpha": np.zeros((self.n_markers, self.n_traits)),
            "genetic_values": np.zeros((self.n_records, self.n_traits), order="F"),
            "prior": self.prior.init_state(rng, self.n_markers),
        }

    def draw_prior(self, rng, state) -> None:
        state["alpha"][:] = np.reshape(self.prior.draw_prior(rng, state["prior"]), state["alpha"].shape)
        self.fitted(state)

    def group_action(self):
        """The rescaling of the effects with the prior's scale parameter (one trait, ``expand``, a
        prior with a sampled scale: ``MarkerPrior.rescalable``), run by ``bayesgen.sampler.group_move``."""
        if self.expand and self.n_traits == 1 and self.prior.rescalable:
            return MarkerScaleAction(self)
        return None

    def scale_action(self):
        """The scale move's view of the markers: the rescaling action (one trait, a prior with a
        sampled scale), whether or not ``expand`` runs the term's own group move."""
        if self.n_traits == 1 and self.prior.rescalable:
            return GroupScaling(MarkerScaleAction(self))
        return None

    def step(self, rng, state, ctx) -> dict:
        """One sweep over the markers (the prior's kernel, or the blocked one), then the prior's hyperparameters."""
        alpha, prior_state, genetic_values = state["alpha"], state["prior"], state["genetic_values"]
        if self.block_size is not None:
            sweep_markers_blocked(
                rng,
                alpha[:, 0],
                prior_state["var_alpha"],
                self.codes,
                self.lookup,
                self.xx,
                self._gram,
                *self._missing,
                ctx.resid[:, 0],
                ctx.weights[:, 0],
                genetic_values[:, 0],
                ctx.sigma2_e,
                self.block_passes,
            )
        else:
            self.prior.sweep(
                rng,
                alpha,
                prior_state,
                self.codes,
                self.lookup,
                self.xx,
                self.code_stats,
                ctx.resid,
                ctx.weights[:, 0],
                genetic_values,
                ctx.residual_covariance,
            )
        self.prior.update(rng, alpha, prior_state)
        return {}

    def fitted(self, state) -> np.ndarray:
        # Recomputed from scratch (not the running sum), so it also resets rounding drift.
        state["genetic_values"][:] = genetic_values(self.codes, self.lookup, state["alpha"], self.n_records)
        return state["genetic_values"].copy()

    def variance(self, state) -> np.ndarray:
        """Covariance (t x t, divisor n) of the genomic values over the records with a phenotype."""
        values = state["genetic_values"][self._phenotyped]
        centred = values - values.mean(axis=0)
        return centred.T @ centred / max(values.shape[0], 1)

    def log_prior(self, state) -> float:
        return self.prior.log_prior(state["prior"])

    def record(self, state, ctx) -> dict:
        cov = self.variance(state)
        if self.n_traits == 1:
            out = {self.effect_name: state["alpha"][:, 0].copy(), self.variance_name: cov[0, 0]}
        else:
            sd = np.sqrt(np.diag(cov))
            with np.errstate(invalid="ignore", divide="ignore"):
                rho = cov / np.outer(sd, sd)
            out = {self.effect_name: state["alpha"].copy(), self.variance_name: cov, self.correlation_name: rho}
        for key, value in self.prior.record(state["prior"]).items():
            out[self._name(key, key)] = value
        return out

    def priors(self) -> dict:
        return {self.effect_name: self.prior.to_dict()}

    def data_arrays(self) -> list:
        """The genotype codes of the records and their centred values (checkpoint fingerprint)."""
        return [self.codes, self.lookup]

    def describe(self) -> dict:
        out = {
            "term": "Markers",
            "name": self.name,
            "column": self.column,
            "markers": self.n_markers,
            "prior": self.prior.to_dict(),
        }
        if self.block_size is not None:
            out.update(block_size=self.block_size, block_passes=self.block_passes)
        return out


class MarkerScaleAction:
    r"""The group move's action for marker effects: :math:`\alpha \to k\alpha` with the prior's scale.

    One generator (k > 0); the fit is the genomic values :math:`g = X\alpha`, which move to
    kg; f(k) is the prior's ``rescale_log_density`` (its scale parameter's prior, the
    Jacobian and the Haar measure). The interweaving (non-centred) update of the prior's
    scale: the centred updates move it by about :math:`1/\sqrt{p\nu}` of itself per iteration
    when the effects are weakly identified (p >> n), this one by about :math:`\sigma_e/\sqrt{g'Wg}`.
    """

    kind = "scalar"
    identity = np.array([1.0])

    def __init__(self, term: Markers):
        self.term = term
        self.name = term.name

    def basis_fits(self, state: dict) -> np.ndarray:
        return state["genetic_values"][None, :, :]

    def log_factor(self, state: dict, m: np.ndarray) -> float:
        k = float(m[0])
        return self.term.prior.rescale_log_density(state["prior"], k) if k > 0.0 else -np.inf

    def apply(self, state: dict, m: np.ndarray) -> None:
        k = float(m[0])
        state["genetic_values"] *= k
        state["alpha"] *= k
        self.term.prior.rescale(state["prior"], k)


def _is_positive_int(value) -> bool:
    return bool(isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) and value >= 1)
