r"""Single-step Bayesian regression (SSBR; Fernando, Dekkers & Garrick 2014; Fernando et al. 2016).

Every pedigree animal gets the breeding value

.. math:: u = \begin{bmatrix}u_n\\ u_g\end{bmatrix}
          = \begin{bmatrix}\hat M_n\\ M_g\end{bmatrix}\alpha + \begin{bmatrix}\varepsilon\\ 0\end{bmatrix}
          + J c,\qquad \hat M_n = A_{ng}A_{gg}^{-1}M_g = -[(A^{-1})_{nn}]^{-1}(A^{-1})_{ng}M_g,

with :math:`M_g` the centred genotypes of the genotyped animals (int8 codes centred by
``genotypes.centre``), :math:`\hat M_n` their imputation for the others,
:math:`\alpha` under any one-trait marker prior, the imputation residual
:math:`\varepsilon \sim N(0, \sigma^2_\varepsilon (A_{nn} - A_{ng}A_{gg}^{-1}A_{gn}))` whose
precision is :math:`(A^{-1})_{nn}/\sigma^2_\varepsilon` (sparse), and the covariate
:math:`J = [A_{ng}A_{gg}^{-1}J_g;\ J_g]`, :math:`J_g = -1` (Fernando et al. 2016: the mean of the
genotyped animals' centred genotypes differs from that of their ungenotyped ancestors).

One Gibbs iteration: every :math:`\alpha_j` (or :math:`(\delta_j, \alpha_j)`) given the rest
(``bayesgen.kernels.single_step``), the prior's hyperparameters given :math:`\alpha`
(``MarkerPrior.update``), every :math:`\varepsilon_i` given its neighbours in
:math:`(A^{-1})_{nn}` (the random-effect sweep, ``bayesgen.kernels.random_effects``),
:math:`\sigma^2_\varepsilon \mid \varepsilon` (its prior's conjugate update with
:math:`\varepsilon'(A^{-1})_{nn}\varepsilon` and :math:`n_n` levels), and c from its normal full
conditional (flat or :math:`N(0, \tau^2)` prior).
"""

from __future__ import annotations

import time

import numpy as np

from .._validation import id_labels, normalize_ids, preview, require_columns
from ..data.genotypes import Genotypes
from ..data.pedigree import Pedigree
from ..data.single_step import PedigreeBlocks
from ..kernels.random_effects import quadratic_form_matrix, sweep_random_effects
from ..kernels.single_step import (
    single_step_cross_products,
    single_step_genetic_values,
    sweep_single_step_markers,
)
from ..priors.bayes_c import BayesCPrior
from ..priors.defaults import resolve_prior
from ..priors.marker_prior import MarkerPrior
from ..variable import Variable
from .base import BindContext, Inheritance, Term
from .designs import records_by_level

#: Markers imputed at once (bounds the temporary float64 memory: PANEL x animals).
PANEL = 512
IMPUTED_DTYPES = ("float32", "float64")


class SingleStepBayes(Term):
    r"""Single-step Bayesian regression (module docstring): ``bg.SingleStep(..., method="bayes")``.

    Parameters
    ----------
    column : str
        Column of the data with each record's animal id (every id must be in the pedigree).
    pedigree, genotypes : Pedigree, Genotypes
        Every genotyped animal must be in the pedigree. Genotypes are centred by
        ``genotypes.centre`` (twice the allele frequencies over its individuals).
    method : "bayes"
    prior : MarkerPrior, default ``BayesCPrior()``
        Any one-trait marker prior whose sweep is Gaussian given per-marker variances
        (``RidgePrior`` = BRR, ``BayesAPrior``, ``LassoPrior``) or spike and slab with one
        inclusion probability (``BayesCPrior``, ``BayesBPrior``). BayesR is not available here.
    epsilon_prior : VariancePrior, float, None or "shared"
        Prior on :math:`\sigma^2_\varepsilon`, the imputation residual's own variance (a number
        fixes it; None the default prior of a random effect). ``"shared"``: ε shares the markers'
        genetic variance, :math:`\sigma^2_\varepsilon = k\sigma^2_\alpha` with
        :math:`k = \pi\sum_j 2p_j(1-p_j)` (π = 1 for BRR), for ``RidgePrior`` and ``BayesCPrior`` with
        π fixed (Fernando et al. 2014); :math:`\sigma^2_\alpha` is then drawn from its prior's conjugate
        update with :math:`\sum_{\delta_j=1}\alpha_j^2 + \varepsilon'(A^{-1})_{nn}\varepsilon/k` and
        (included markers + :math:`n_n`) terms.
    j_covariate : bool, default True
        Fit c, the coefficient of J (Fernando et al. 2016); its prior is flat, or
        :math:`N(0, \tau^2)` with ``j_prior_variance`` = :math:`\tau^2`. The records are fitted on
        :math:`J - \bar J` (:math:`\bar J` its mean over the phenotyped records, ``j_mean``), which with
        an intercept in the model is the same model with the intercept reading :math:`\mu + \bar Jc`:
        uncentred, the draws of c and of the intercept are almost collinear and mix very slowly. The
        breeding values ``u`` hold :math:`Jc` itself.
    imputed_dtype : "float32" or "float64", default "float32"
        Storage of the imputed genotypes of the records of ungenotyped animals.
    expand : bool, default True
        After each step, the group move (``bayesgen.sampler.group_move``) rescales the marker
        effects with the prior's scale parameter and ε with :math:`\sigma^2_\varepsilon`
        (:class:`SingleStepScaleAction`); it leaves the posterior unchanged.
    name : str, default "animal"
        Records ``u`` (dim ``animal``, every pedigree animal: the breeding values above), ``alpha``
        (dim ``marker``), ``epsilon`` is not recorded, ``sigma2_epsilon``, ``j`` (with J),
        ``var_g`` (the variance of :math:`X\alpha + Z\varepsilon` over the phenotyped records,
        genetic in ``h2``) and the prior's own parameters.

    What is stored: the records' int8 codes (markers x records of genotyped animals, as
    ``Markers``), the imputed genotypes of the records of ungenotyped animals (markers x those
    records, ``imputed_dtype``: 4 bytes each by default, 4x the int8 codes they replace), the
    sparse :math:`(A^{-1})_{nn}` and :math:`(A^{-1})_{ng}` and the Cholesky factor of
    :math:`(A^{-1})_{nn}`. Imputation streams ``PANEL`` markers at a time
    (:math:`n_g` x PANEL float64 in, :math:`n_n` x PANEL out). Ungenotyped animals without records
    get no imputed genotypes: their :math:`\hat M_n\alpha` is recorded per draw from one sparse
    solve with :math:`M_g\alpha`. ``setup_seconds`` holds the time spent on imputation.
    The term is sampled by its own step (sampler "single-site" or the markers' route of
    "auto"); the joint and collapsed blocks see the other location terms.
    """

    genetic = True
    predicts = "levels"
    n_traits = 1
    method = "bayes"

    def __init__(
        self,
        column: str,
        pedigree: Pedigree,
        genotypes: Genotypes,
        method: str = "bayes",
        prior=None,
        epsilon_prior=None,
        j_covariate: bool = True,
        j_prior_variance=None,
        imputed_dtype: str = "float32",
        name: str = "animal",
        expand: bool = True,
    ):
        if method != "bayes":
            raise ValueError(f"SingleStepBayes is method='bayes', got {method!r}.")
        if not isinstance(column, str):
            raise TypeError(f"SingleStep column must be a column name (str), got {column!r}.")
        if not isinstance(pedigree, Pedigree):
            raise TypeError(f"pedigree must be a bayesgen.Pedigree, got {type(pedigree).__name__}.")
        if not isinstance(genotypes, Genotypes):
            raise TypeError(f"genotypes must be a bayesgen.Genotypes, got {type(genotypes).__name__}.")
        prior = BayesCPrior() if prior is None else prior
        if not isinstance(prior, MarkerPrior):
            raise TypeError(
                f"SingleStep(method='bayes') prior must be a marker prior (RidgePrior, BayesAPrior, "
                f"LassoPrior, BayesBPrior, BayesCPrior), got {prior!r}."
            )
        if not prior.one_slab:
            raise ValueError(
                f"SingleStep(method='bayes') takes a marker prior drawn by the Gaussian sweep or a "
                f"spike and slab with one inclusion probability; {type(prior).__name__} is not available."
            )
        if imputed_dtype not in IMPUTED_DTYPES:
            raise ValueError(f"SingleStep imputed_dtype must be one of {IMPUTED_DTYPES}, got {imputed_dtype!r}.")
        if not isinstance(j_covariate, (bool, np.bool_)):
            raise TypeError(f"SingleStep j_covariate must be True or False, got {j_covariate!r}.")
        if j_prior_variance is not None and not (
            isinstance(j_prior_variance, (int, float)) and np.isfinite(j_prior_variance) and j_prior_variance > 0
        ):
            raise ValueError(
                f"SingleStep j_prior_variance must be a positive number or None (flat), got {j_prior_variance!r}."
            )
        self.column, self.pedigree, self.genotypes, self.prior = column, pedigree, genotypes, prior
        self.epsilon_prior_arg = epsilon_prior
        self.shared = isinstance(epsilon_prior, str) and epsilon_prior == "shared"
        if isinstance(epsilon_prior, str) and not self.shared:
            raise ValueError(
                f"SingleStep epsilon_prior must be a variance prior, a number, None or 'shared', got {epsilon_prior!r}."
            )
        if self.shared and not prior.shares_common_variance:
            raise ValueError(
                f"SingleStep epsilon_prior='shared' needs a marker prior with one common variance "
                f"(RidgePrior, or BayesCPrior with pi fixed), got {prior!r}."
            )
        self.j_covariate = bool(j_covariate)
        self.j_prior_variance = None if j_prior_variance is None else float(j_prior_variance)
        self.imputed_dtype = imputed_dtype
        self.name = name
        #: The recorded marker effects, with which ``Model.predict(idata, genotypes=...)`` predicts new
        #: genotyped animals: :math:`u = m'\alpha + J_g c` (:math:`J_g = -1`).
        self.marker_effects = self._name("alpha", "alpha")
        if not isinstance(expand, (bool, np.bool_)):
            raise TypeError(f"SingleStep expand must be True or False, got {expand!r}.")
        self.expand = bool(expand)
        self.blocks = PedigreeBlocks(pedigree, genotypes)

    def copy_for_binding(self):
        blocks = self.blocks
        del self.blocks
        try:
            out = Term.copy_for_binding(self)
        finally:
            self.blocks = blocks
        out.blocks = blocks
        return out

    # ------------------------------------------------------------------ names
    def _name(self, default: str, stem: str) -> str:
        return default if self.name == "animal" else f"{stem}_{self.name}"

    @property
    def effect_name(self) -> str:
        return self._name("u", "u")

    @property
    def level_dim(self) -> str:
        return "animal" if self.name == "animal" else f"{self.name}_level"

    @property
    def marker_dim(self) -> str:
        return self._name("marker", "marker")

    @property
    def variance_name(self) -> str:
        # derived (the variance of X alpha + Z epsilon over the phenotyped records): var_, as Markers' var_g
        return self._name("var_g", "var_g")

    @property
    def epsilon_variance_name(self) -> str:
        return self._name("sigma2_epsilon", "sigma2_epsilon")

    def inheritance(self) -> Inheritance:
        """An ungenotyped leaf's u is its parents' mean plus ε's Mendelian sampling (variance D σ²_ε):
        its imputed genotypes and J are its parents' mean, and ε has the pedigree's structure."""
        return Inheritance(self.pedigree, self.effect_name, self.epsilon_variance_name)

    def genomic_offset(self, idata) -> np.ndarray:
        """:math:`J_g c = -c` per draw (0 without J), added to :math:`m'\alpha` of new genotyped animals."""
        if not self.j_covariate:
            return np.zeros(1)
        return -idata.posterior[self._name("j", "j")].stack(sample=("chain", "draw")).values

    def coords(self) -> list:
        return list(id_labels(self.pedigree.ids))

    # ------------------------------------------------------------------ binding
    def bind(self, context: BindContext) -> None:
        """The records' genotypes (int8 codes, or imputed), x'Wx, the records of each ungenotyped animal,
        J, the default priors."""
        if context.n_traits != 1:
            raise ValueError(f"SingleStep(method='bayes') is for one trait; the model has {context.n_traits}.")
        require_columns(context.frame, [self.column], "data")
        ids = normalize_ids(context.frame[self.column].tolist(), f"Column {self.column!r}")
        known = self.pedigree._index
        absent = [a for a in dict.fromkeys(ids) if a not in known]
        if absent:
            raise ValueError(f"Animals in column {self.column!r} not found in the pedigree: {preview(absent)}.")
        n_animals = len(self.pedigree)
        genotyped, ungenotyped = self.blocks.genotyped, self.blocks.ungenotyped
        genotype_column = np.full(n_animals, -1, dtype=np.int64)  # animal -> column of genotypes.codes
        genotype_column[genotyped] = np.arange(genotyped.size)
        ungenotyped_level = np.full(n_animals, -1, dtype=np.int64)  # animal -> epsilon level
        ungenotyped_level[ungenotyped] = np.arange(ungenotyped.size)
        animal = np.array([known[a] for a in ids], dtype=np.int64)
        self.record_animal = animal
        self.genotyped_records = np.flatnonzero(genotype_column[animal] >= 0).astype(np.int64)
        self.imputed_records = np.flatnonzero(genotype_column[animal] < 0).astype(np.int64)
        self.codes = np.ascontiguousarray(
            np.take(self.genotypes.codes, genotype_column[animal[self.genotyped_records]], axis=1)
        )
        self.lookup = self.genotypes.centred_lookup()
        start = time.perf_counter()
        self.imputed = self._impute(ungenotyped_level[animal[self.imputed_records]])
        self.setup_seconds = time.perf_counter() - start
        # epsilon: levels = ungenotyped animals, precision (A^-1)_nn, records of ungenotyped animals
        self.epsilon_level = ungenotyped_level[animal]
        self.rec_ptr, self.rec_idx = records_by_level(self.epsilon_level, ungenotyped.size)
        self.rec_z = np.ones(self.rec_idx.size)
        weights = context.observed[:, 0].astype(np.float64)
        self._phenotyped = context.observed[:, 0].copy()
        self.zz = np.bincount(
            self.epsilon_level[self.epsilon_level >= 0],
            weights=weights[self.epsilon_level >= 0],
            minlength=ungenotyped.size,
        ).astype(np.float64)
        precision = self.blocks.ainv_nn
        self._prec = (
            precision.indptr.astype(np.int64),
            precision.indices.astype(np.int64),
            precision.data.astype(np.float64),
        )
        # J = [A_ng A_gg^-1 J_g; J_g], J_g = -1, per record
        j_animal = np.full(n_animals, -1.0)
        j_animal[ungenotyped] = self.blocks.impute(-np.ones(genotyped.size))
        self.j_animal = j_animal
        # The fit uses J centred over the phenotyped records (nearly orthogonal to the intercept, so that c
        # and the intercept mix; uncentred, their draws are almost collinear): the intercept absorbs J̄c.
        j_records = j_animal[animal]
        self.j_mean = float(np.sum(weights * j_records) / max(weights.sum(), 1.0))
        self.j_records = j_records - self.j_mean
        self.jj = float(np.sum(weights * self.j_records**2))
        if self.j_covariate and self.jj <= 1e-10 * max(float(weights.sum()), 1.0):
            # J is then constant over the records: c is confounded with the intercept (a flat prior on c
            # would give an improper posterior), as when every phenotyped animal is genotyped
            raise ValueError(
                f"SingleStep(method='bayes') j_covariate=True: J takes one value over the phenotyped records of "
                f"{self.column!r} (every one genotyped, or none related to a genotyped animal), so c cannot be told "
                "from the intercept; use j_covariate=False."
            )
        sum_x, self.xx = single_step_cross_products(
            self.codes, self.lookup, self.genotyped_records, self.imputed, self.imputed_records, weights
        )
        n_obs = max(int(weights.sum()), 1)
        var_x = np.maximum(self.xx / n_obs - (sum_x / n_obs) ** 2, 0.0)
        share = float(np.atleast_1d(context.default_share)[0])
        # BGLR's rule as Markers: the markers explain their share of Var(y) a priori, spread evenly
        self.prior.bind_traits(
            np.array([share / max(float(var_x.sum()), 1e-12)]),
            list(context.traits),
            self._name("sigma2_alpha", "sigma2_alpha"),
            self.n_markers,
        )
        self.epsilon_prior = resolve_prior(
            None if self.shared else self.epsilon_prior_arg,
            context.prior_rule,
            np.atleast_1d(share),
            np.atleast_1d(context.phenotypic_sd),
            self.epsilon_variance_name,
        )
        frequency = self.genotypes.centre / 2.0
        inclusion = self.prior.prior_inclusion()
        #: sigma2_epsilon = shared_factor * sigma2_alpha with epsilon_prior="shared"
        self.shared_factor = inclusion * float(np.sum(2.0 * frequency * (1.0 - frequency)))
        self._epsilon_start = share
        self._spike = self.prior.spike_and_slab

    def _impute(self, levels: np.ndarray) -> np.ndarray:
        """Imputed centred genotypes (markers x records) of the records of ungenotyped animals (``levels``:
        each record's position among the ungenotyped), PANEL markers at a time."""
        out = np.empty((self.n_markers, levels.size), dtype=self.imputed_dtype)
        if levels.size == 0:
            return out
        codes = self.genotypes.codes
        for start in range(0, self.n_markers, PANEL):
            stop = min(start + PANEL, self.n_markers)
            centred = np.take_along_axis(self.lookup[start:stop], codes[start:stop].astype(np.intp), axis=1)
            imputed = self.blocks.impute(centred.T)  # ungenotyped x panel
            out[start:stop] = imputed[levels].T
        return out

    @property
    def n_markers(self) -> int:
        return self.genotypes.n_markers

    # ------------------------------------------------------------------ state
    def init_state(self, rng) -> dict:
        sigma2 = np.array(
            self.epsilon_prior.initial_value(np.array([[self._epsilon_start]])), dtype=np.float64
        ).reshape(1, 1)
        if self.epsilon_prior.sampled and not self.shared:
            sigma2 = sigma2 * rng.uniform(0.5, 2.0)
        prior_state = self.prior.init_state(rng, self.n_markers)
        if self.shared:
            sigma2 = self.shared_factor * np.array(self.prior.common_variance(prior_state), dtype=np.float64).reshape(
                1, 1
            )
        return {
            "alpha": np.zeros((self.n_markers, 1)),
            "genetic_values": np.zeros((self.record_animal.size, 1)),
            "prior": prior_state,
            "epsilon": np.zeros((self.blocks.ungenotyped.size, 1)),
            "sigma2_epsilon": sigma2,
            "epsilon_aux": self.epsilon_prior.init_aux(rng),
            "j": np.zeros(1),
        }

    def draw_prior(self, rng, state) -> None:
        state["alpha"][:] = np.reshape(self.prior.draw_prior(rng, state["prior"]), state["alpha"].shape)
        if self.shared:
            state["sigma2_epsilon"][:] = self.shared_factor * self.prior.common_variance(state["prior"])
        else:
            state["sigma2_epsilon"][:] = self.epsilon_prior.draw_prior(rng, state["epsilon_aux"])
        if self.blocks.factor_nn is not None:
            # epsilon = L^-T z sqrt(sigma2): covariance sigma2 [(A^-1)_nn]^-1
            z = rng.standard_normal(self.blocks.ungenotyped.size)
            state["epsilon"][:, 0] = self.blocks.factor_nn.solve_lt(z) * np.sqrt(state["sigma2_epsilon"][0, 0])
        if self.j_covariate:
            if self.j_prior_variance is None:
                raise NotImplementedError(
                    "SingleStep(method='bayes') draws c from its prior only with j_prior_variance set (a proper prior)."
                )
            state["j"][0] = rng.standard_normal() * np.sqrt(self.j_prior_variance)
        self._marker_values(state)

    def _marker_values(self, state) -> np.ndarray:
        state["genetic_values"][:, 0] = single_step_genetic_values(
            self.codes,
            self.lookup,
            self.genotyped_records,
            self.imputed,
            self.imputed_records,
            state["alpha"][:, 0],
            self.record_animal.size,
        )
        return state["genetic_values"][:, 0]

    def _epsilon_fit(self, state) -> np.ndarray:
        out = np.zeros(self.record_animal.size)
        has = self.epsilon_level >= 0
        out[has] = state["epsilon"][self.epsilon_level[has], 0]
        return out

    def fitted(self, state) -> np.ndarray:
        return (self._marker_values(state) + self._epsilon_fit(state) + state["j"][0] * self.j_records)[:, None]

    # ------------------------------------------------------------------ the step
    def step(self, rng, state, ctx) -> dict:
        """Markers, the prior's hyperparameters, epsilon, sigma2_epsilon, c (module docstring)."""
        resid, weights, sigma2_e = ctx.resid[:, 0], ctx.weights[:, 0], ctx.sigma2_e
        alpha, prior_state = state["alpha"], state["prior"]
        log_prior_odds = 0.0
        if self._spike:
            log_prior_odds = self.prior.inclusion_log_odds(prior_state)
        n_included = sweep_single_step_markers(
            rng,
            alpha[:, 0],
            prior_state["var_alpha"],
            log_prior_odds,
            self._spike,
            self.codes,
            self.lookup,
            self.genotyped_records,
            self.imputed,
            self.imputed_records,
            self.xx,
            resid,
            weights,
            state["genetic_values"][:, 0],
            sigma2_e,
        )
        self.prior.set_included(prior_state, n_included)
        if self.shared:
            self._update_shared_variance(rng, state)
        else:
            self.prior.update(rng, alpha, prior_state)
        if self.blocks.ungenotyped.size:
            sweep_random_effects(
                rng,
                state["epsilon"][:, 0],
                resid,
                weights,
                self.rec_ptr,
                self.rec_idx,
                self.rec_z,
                self.zz,
                *self._prec,
                sigma2_e,
                float(state["sigma2_epsilon"][0, 0]),
            )
            if self.epsilon_prior.sampled and not self.shared:
                sum_squares = quadratic_form_matrix(state["epsilon"], *self._prec)
                state["sigma2_epsilon"][:] = self.epsilon_prior.draw_posterior(
                    rng, sum_squares, self.blocks.ungenotyped.size, state["epsilon_aux"]
                )
        if self.j_covariate:
            # c | . ~ N(J'W(e + Jc) / C, sigma2_e / C), C = J'WJ + sigma2_e / tau2 (0 for a flat prior)
            current = state["j"][0]
            rhs = float(np.sum(weights * self.j_records * resid)) + self.jj * current
            lhs = self.jj + (0.0 if self.j_prior_variance is None else sigma2_e / self.j_prior_variance)
            new = rhs / lhs + np.sqrt(sigma2_e / lhs) * rng.standard_normal()
            resid -= (new - current) * self.j_records
            state["j"][0] = new
        return {}

    def _update_shared_variance(self, rng, state) -> None:
        r""":math:`\sigma^2_\alpha \mid \alpha, \varepsilon` with :math:`\sigma^2_\varepsilon = k\sigma^2_\alpha`: the
        prior's conjugate update with :math:`\sum\alpha_j^2 + \varepsilon'(A^{-1})_{nn}\varepsilon/k` over the
        included markers plus :math:`n_n` (``epsilon_prior`` in the class docstring); π is fixed."""
        prior_state = state["prior"]
        extra_sum_squares, extra_count = 0.0, 0
        if self.blocks.ungenotyped.size:
            extra_sum_squares = quadratic_form_matrix(state["epsilon"], *self._prec) / self.shared_factor
            extra_count = self.blocks.ungenotyped.size
        self.prior.update_sharing_variance(rng, state["alpha"], prior_state, extra_sum_squares, extra_count)
        state["sigma2_epsilon"][:] = self.shared_factor * self.prior.common_variance(prior_state)

    def group_action(self):
        """The joint rescaling of the markers and of ε with their scale parameters (``expand``), or None."""
        if not self.expand:
            return None
        action = SingleStepScaleAction(self)
        return action if action.generators else None

    # ------------------------------------------------------------------ outputs
    def breeding_values(self, state) -> np.ndarray:
        """u of every pedigree animal (module docstring), pedigree order."""
        genomic_g = np.zeros(self.blocks.genotyped.size)
        alpha = state["alpha"][:, 0]
        codes, lookup = self.genotypes.codes, self.lookup
        included = np.flatnonzero(alpha)
        for start in range(0, included.size, PANEL):
            block = included[start : start + PANEL]
            centred = np.take_along_axis(lookup[block], codes[block].astype(np.intp), axis=1)
            genomic_g += alpha[block] @ centred
        u = np.empty(len(self.pedigree))
        u[self.blocks.genotyped] = genomic_g
        if self.blocks.ungenotyped.size:
            u[self.blocks.ungenotyped] = self.blocks.impute(genomic_g) + state["epsilon"][:, 0]
        if self.j_covariate:
            u += state["j"][0] * self.j_animal
        return u

    def variables(self) -> list[Variable]:
        out = [
            Variable(self.effect_name, (self.level_dim,), {self.level_dim: self.coords()}, high_dimensional=True),
            Variable(
                self._name("alpha", "alpha"),
                (self.marker_dim,),
                {self.marker_dim: self.genotypes.markers},
                high_dimensional=True,
                inclusion=self.prior.spike_and_slab,
            ),
            Variable(self.variance_name),
            Variable(self.epsilon_variance_name),
        ]
        if self.j_covariate:
            out.append(Variable(self._name("j", "j")))
        for v in self.prior.variables():
            out.append(Variable(self._name(v.name, v.name), v.dims, v.coords, v.high_dimensional, v.group))
        return out

    def variance(self, state) -> np.ndarray:
        """Variance (divisor n) of :math:`X\\alpha + Z\\varepsilon` over the phenotyped records (1 x 1)."""
        values = (state["genetic_values"][:, 0] + self._epsilon_fit(state))[self._phenotyped]
        return np.array([[float(np.var(values))]]) if values.size else np.zeros((1, 1))

    def record(self, state, ctx) -> dict:
        out = {
            self.effect_name: self.breeding_values(state),
            self._name("alpha", "alpha"): state["alpha"][:, 0].copy(),
            self.variance_name: self.variance(state)[0, 0],
            self.epsilon_variance_name: float(state["sigma2_epsilon"][0, 0]),
        }
        if self.j_covariate:
            out[self._name("j", "j")] = float(state["j"][0])
        for key, value in self.prior.record(state["prior"]).items():
            out[self._name(key, key)] = value
        return out

    def log_prior(self, state) -> float:
        out = self.prior.log_prior(state["prior"])
        if self.epsilon_prior.sampled and not self.shared:
            out += self.epsilon_prior.log_density(state["sigma2_epsilon"])
        return out

    def priors(self) -> dict:
        return {
            self._name("alpha", "alpha"): self.prior.to_dict(),
            self.epsilon_variance_name: "shared" if self.shared else self.epsilon_prior.to_dict(),
        }

    def data_arrays(self) -> list:
        return [self.codes, self.lookup, self.imputed, self.blocks.ainv_nn, self.j_records]

    def describe(self) -> dict:
        return {
            "term": "SingleStep",
            "method": "bayes",
            "name": self.name,
            "column": self.column,
            "markers": self.n_markers,
            "genotyped": int(self.blocks.genotyped.size),
            "ungenotyped": int(self.blocks.ungenotyped.size),
            "prior": self.prior.to_dict(),
            "epsilon_prior": "shared" if self.shared else self.epsilon_prior.to_dict(),
            "j_covariate": self.j_covariate,
            "imputed_dtype": self.imputed_dtype,
            "imputed_bytes": int(self.imputed.nbytes),
            "imputation_seconds": float(self.setup_seconds),
        }


class SingleStepScaleAction:
    r"""The group move's action for SSBR: :math:`\alpha \to k_1\alpha` with the marker prior's scale parameter
    and :math:`\varepsilon \to k_2\varepsilon`, :math:`\sigma^2_\varepsilon \to k_2^2\sigma^2_\varepsilon`.

    Generators (each only when its scale is sampled): ``markers`` (the fit :math:`X\alpha`; f(k) is the prior's
    ``rescale_log_density``, as ``bayesgen.terms.markers.MarkerScaleAction``) and ``epsilon`` (the fit
    :math:`Z\varepsilon`; the :math:`n_n` effects' Jacobian :math:`k^{n_n}` cancels their prior's
    :math:`k^{-n_n}`, leaving :math:`f(k) = p(k^2\sigma^2_\varepsilon \mid a)\,k^2\,k^{-1}`: the variance's
    density, its Jacobian and the Haar measure, as ``bayesgen.terms.location.LocationGroupAction``). With
    ``epsilon_prior="shared"`` one generator moves α, ε and :math:`\sigma^2_\alpha` together
    (:math:`\sigma^2_\varepsilon = k\sigma^2_\alpha` follows): ε's Jacobian and density cancel, so f(k) is
    the prior's ``rescale_log_density`` alone.
    """

    kind = "diagonal"

    def __init__(self, term: SingleStepBayes):
        self.term = term
        self.name = term.name
        markers = term.prior.rescalable
        epsilon = term.blocks.ungenotyped.size > 0 and term.epsilon_prior.sampled and not term.shared
        if term.shared:
            self.generators = ["shared"] if markers else []
        else:
            self.generators = [g for g, on in (("markers", markers), ("epsilon", epsilon)) if on]
        self.identity = np.ones(len(self.generators))

    def basis_fits(self, state: dict) -> np.ndarray:
        fits = []
        for generator in self.generators:
            if generator == "markers":
                fits.append(state["genetic_values"][:, 0])
            elif generator == "epsilon":
                fits.append(self.term._epsilon_fit(state))
            else:
                fits.append(state["genetic_values"][:, 0] + self.term._epsilon_fit(state))
        return np.stack(fits)[:, :, None]

    def log_factor(self, state: dict, m: np.ndarray) -> float:
        k = np.asarray(m, dtype=np.float64)
        if (k <= 0).any():
            return -np.inf
        out = 0.0
        for generator, factor in zip(self.generators, k):
            if generator == "epsilon":
                moved = factor * factor * state["sigma2_epsilon"]
                out += self.term.epsilon_prior.log_density(moved, state["epsilon_aux"]) + np.log(factor)
            else:
                out += self.term.prior.rescale_log_density(state["prior"], float(factor))
        return float(out)

    def apply(self, state: dict, m: np.ndarray) -> None:
        for generator, factor in zip(self.generators, np.asarray(m, dtype=np.float64)):
            if generator in ("markers", "shared"):
                state["alpha"] *= factor
                state["genetic_values"] *= factor
                self.term.prior.rescale(state["prior"], float(factor))
            if generator in ("epsilon", "shared"):
                state["epsilon"] *= factor
                state["sigma2_epsilon"] *= factor * factor
            if generator == "shared":
                state["sigma2_epsilon"][:] = self.term.shared_factor * self.term.prior.common_variance(state["prior"])
