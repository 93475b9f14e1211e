r"""The direct–maternal animal model: each animal's direct and maternal breeding values.

A record of animal i with dam m(i) is :math:`y_i = \dots + a_{d,i} + a_{m,m(i)} + e_i`: its own
direct genetic effect plus the maternal genetic effect of its dam (Willham 1963). Each
animal of the pedigree has both, with

.. math:: \mathrm{vec}\begin{pmatrix} a_d' \\ a_m' \end{pmatrix} \sim N(0, A \otimes G),\qquad
          G = \begin{pmatrix} \sigma^2_d & \sigma_{dm} \\ \sigma_{dm} & \sigma^2_m \end{pmatrix},

A the numerator relationship matrix. Built by ``Animal(column, pedigree, maternal="dam column")``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import xarray as xr

from .._numba import kernel
from .._user_warnings import warn_user
from .._validation import id_labels, normalize_id, normalize_parent, preview
from ..data.pedigree import Pedigree
from ..kernels.cholesky import SparseCholesky
from ..kernels.random_effects import quadratic_form_matrix
from ..priors.defaults import covariance_prior_for
from ..priors.scaled_inv_chi2 import as_variance_prior
from .animal import AnimalNames
from .base import BindContext, StepContext, Term, Variable

#: Coordinates of the two effects of every animal.
EFFECTS = ["direct", "maternal"]
#: Largest Cholesky factor (nonzeros) of the 2q joint equations (``joint=True``); beyond, an error.
JOINT_MAX_FACTOR_NONZEROS = 20_000_000


class MaternalAnimal(AnimalNames, Term):
    r"""Direct and maternal additive genetic effects of animals related by a pedigree.

    Build it with ``bg.Animal(column, pedigree, maternal=dam_column)``. Each animal of the
    pedigree gets a direct effect :math:`a_{d}` and a maternal effect :math:`a_{m}`;
    :math:`(a_d, a_m) \sim N(0, G \otimes A)` (see the module docstring). A record of animal
    i whose dam (column ``maternal``) is m gets :math:`a_{d,i} + a_{m,m}`; a record whose dam
    is unknown (NaN, 0, "NA", ... as in a pedigree) gets no maternal effect. The dam in the
    data need not be the genetic dam of the pedigree (foster mothers), but every dam needs
    her own id in the pedigree so that her maternal effect is related to the others.

    The maternal permanent-environment effect (what a dam gives all her offspring beyond
    her genes) is not part of this term: add ``bg.Random(dam_column)`` next to it.

    Prior of G: ``variance`` as for other terms (a 2 x 2 ``InverseWishart``, a fixed 2 x 2
    matrix). The default under ``priors="default"`` is ``HuangWand(3, (sd(y), sd(y)))``, an
    inverse-Wishart mixed over its scale whose marginals are exactly the one-trait default:
    each of :math:`\sigma_d` and :math:`\sigma_m` is half-t(3, sd(y)) and the correlation has
    density :math:`\propto (1 - \rho^2)^{1/2}`. Under ``priors="bglr"`` it is the
    inverse-Wishart ``IW(5, 8 diag(s, s))`` with mode diag(s, s), s the term's share of Var(y).

    Sampling: by default single-site in 2 x 2 blocks (below), followed by a joint linear
    move of all effects and G (``rescale_move``) that lets the variances and the
    direct-maternal correlation travel along their ridges with the effects. With
    ``joint=True`` all 2q effects are drawn in one block instead, from a sparse Cholesky
    factor of their coefficient matrix (meant for strongly correlated effects; measured 2.5x
    the cost per iteration of the single-site sweep on 1,300 simulated animals, and no
    better mixing per draw there or on gryphon's bwt): with :math:`\theta` the effects
    interleaved (:math:`a_{d,1}, a_{m,1}, a_{d,2}, \dots`) and Z its (records x 2q) design,

    .. math:: \theta \mid \cdot \sim N(C^{-1} Z'W\tilde e/\sigma^2_e,\; C^{-1}),\quad
              C = Z'WZ/\sigma^2_e + A^{-1} \otimes G^{-1},

    :math:`\tilde e` the residual with the term's fit added back. Single-site (default): animal i's pair
    :math:`\theta_i = (a_{d,i}, a_{m,i})` is drawn from its full conditional

    .. math:: \theta_i \mid \cdot \sim N(Q^{-1} b, Q^{-1}),\quad
              Q = \sigma_e^{-2}\,\mathrm{diag}(n_{d,i}, n_{m,i}) + A^{ii} G^{-1},\quad
              b = \sigma_e^{-2}\Big(\sum_{r: i(r) = i} w_r \tilde e_r,\ \sum_{r: m(r) = i} w_r \tilde e_r\Big)
                  - G^{-1} \sum_{k \ne i} A^{ik} \theta_k,

    with :math:`n_{d,i}` the (weighted) records of animal i, :math:`n_{m,i}` those of its
    offspring, :math:`\tilde e` the residual with :math:`\theta_i` added back and
    :math:`A^{ik}` the entries of :math:`A^{-1}` (Q is diagonal in the likelihood part since
    no animal is its own dam). Then :math:`G \mid a \sim` the prior's conjugate update with
    :math:`SS = [a_d, a_m]' A^{-1} [a_d, a_m]` from q animals. That is the route under
    ``sampler="single-site"`` (and ``joint=True``, the term's own joint block). Under
    ``sampler="auto"`` (when the factor is cheap), ``"collapsed"`` and ``"joint"`` the term
    joins the location block of the fixed and iid terms (``bayesgen.sampler.joint``): its
    equations are :math:`a_d` then :math:`a_m`, design :math:`[Z_d\; Z_m]` (``incidence``),
    prior precision :math:`G^{-1} \otimes A^{-1}`; the collapsed block draws G's three
    log-Cholesky parameters with the other variances from their restricted marginal, then
    all effects jointly. On gryphon's bwt that raised the bulk ESS 9 to 26 times per draw
    over the single-site route, 1.6 (rho) to 4.6 (sigma2_e) times per CPU second (README,
    "Family models"; ``benchmarks/bench_maternal.py``).

    Recorded: ``u`` (dims ``animal`` x ``effect``, effect = "direct", "maternal"; other
    names: ``<name>`` and ``<name>_level``), ``sigma2_a`` (G; ``sigma2_<name>``, dims
    ``effect_row`` x ``effect_col``) and ``rho_<name>`` (the direct–maternal genetic
    correlation). For ``h2`` the term counts its direct variance :math:`\sigma^2_d` as genetic
    and :math:`\sigma^2_d + \sigma_{dm} + \sigma^2_m` towards the phenotypic variance (a record
    gets :math:`a_{d,i} + a_{m,m(i)}` with :math:`\mathrm{cov}(a_{d,i}, a_{m,m(i)}) = A_{i,m(i)}\sigma_{dm} = \sigma_{dm}/2`
    when the dam is its non-inbred pedigree dam, so its variance is :math:`\sigma^2_d + \sigma_{dm} + \sigma^2_m`), so
    ``h2`` is the direct heritability :math:`\sigma^2_d/\sigma^2_p`.
    :func:`total_heritability` gives Willham's total heritability per draw.
    """

    genetic = True

    def __init__(self, column: str, pedigree: Pedigree, variance=None, name: str = "animal", *, maternal: str,
                 joint: bool = False):
        if not isinstance(pedigree, Pedigree):
            raise TypeError(f"pedigree must be a bayesgen.Pedigree, got {type(pedigree).__name__}.")
        if not isinstance(column, str):
            raise TypeError(f"Animal column must be a column name (str), got {column!r}.")
        if not isinstance(maternal, str):
            raise TypeError(f"maternal must be the name of the column holding each record's dam (str), got {maternal!r}.")
        if maternal == column:
            raise ValueError(f"maternal={maternal!r} is the animal column itself; it must name the column of dams.")
        if not isinstance(name, str):
            raise TypeError(f"Animal name must be a str, got {name!r}.")
        self.column = column
        self.maternal = maternal
        self.pedigree = pedigree
        self.name = name
        self.variance_prior_arg = variance
        if not isinstance(joint, (bool, np.bool_)):
            raise TypeError(f"joint must be True or False, got {joint!r}.")
        self.joint = joint

    # ------------------------------------------------------------------ names
    @property
    def correlation_name(self) -> str:
        return f"rho_{self.name}"

    # ------------------------------------------------------------------ binding
    def bind(self, context: BindContext) -> None:
        frame = context.frame
        for role, col in (("animal", self.column), ("maternal (dam)", self.maternal)):
            if col not in frame.columns:
                raise KeyError(f"The {role} column {col!r} of Animal({self.column!r}, maternal={self.maternal!r}) "
                               f"is not in data; its columns are {preview(list(frame.columns))}.")
        if context.n_traits != 1:
            raise ValueError(f"Animal(maternal={self.maternal!r}) fits one trait; the model has "
                             f"{context.n_traits} ({', '.join(context.traits)}).")
        animals = [normalize_id(v) for v in frame[self.column].tolist()]
        missing = [label for label, v in zip(frame.index, animals) if v is None]
        if missing:
            raise ValueError(f"Column {self.column!r} has missing animal ids in rows {preview(missing)}.")
        known = self.pedigree._index
        absent = [a for a in dict.fromkeys(animals) if a not in known]
        if absent:
            raise KeyError(f"Animals in column {self.column!r} not found in the pedigree: {preview(absent)}.")
        dams = [normalize_parent(v) for v in frame[self.maternal].tolist()]
        absent = [d for d in dict.fromkeys(dams) if d is not None and d not in known]
        if absent:
            raise KeyError(
                f"Dams in column {self.maternal!r} not found in the pedigree: {preview(absent)}. A maternal "
                "effect needs each dam's own id in the pedigree (add missing dams as founders with unknown parents).")
        own_of_dam = [label for label, a, d in zip(frame.index, animals, dams) if a == d]
        if own_of_dam:
            raise ValueError(f"Rows {preview(own_of_dam)} name the animal as its own dam in column {self.maternal!r}.")
        n_dams = len({d for d in dams if d is not None})
        if n_dams == 0:
            raise ValueError(f"Column {self.maternal!r} has no known dam: no record would get a maternal effect.")
        self._warn_if_not_dams({known[d] for d in dams if d is not None})

        self.levels = list(self.pedigree.ids)
        q = len(self.levels)
        own = np.array([known[a] for a in animals], dtype=np.int64)
        dam = np.array([known[d] if d is not None else -1 for d in dams], dtype=np.int64)
        self._own_index, self._dam_index = own, dam
        self._own_ptr, self._own_idx = _records_by_level(own, q)
        self._dam_ptr, self._dam_idx = _records_by_level(dam, q)
        self.n_dams = n_dams
        precision = self.pedigree.ainv().tocsr()
        precision.sort_indices()
        self.precision = precision
        self._prec = (precision.indptr.astype(np.int64), precision.indices.astype(np.int64),
                      precision.data.astype(np.float64))
        share = float(np.atleast_1d(context.default_share)[0])
        sd = float(context.phenotypic_sd[0])
        default = covariance_prior_for(context.prior_rule, [share, share], [sd, sd])
        self.prior = as_variance_prior(self.variance_prior_arg, default, self.variance_name)
        self.prior.check_dim(2, self.variance_name)
        self._start = np.diag([share, share])
        self._setup_joint()

    def _warn_if_not_dams(self, given: set) -> None:
        """Legal but worth a warning: the column named by ``maternal`` holds the pedigree's
        sires more than its dams (e.g. ``maternal="sire"``), so the "maternal" effect is a
        father's."""
        ped = self.pedigree
        as_sires = len(given & set(ped.sire[ped.sire >= 0].tolist()))
        as_dams = len(given & set(ped.dam[ped.dam >= 0].tolist()))
        named_for_sires = self.maternal.strip().lower() in ("sire", "sires", "father", "fathers")
        if as_sires > as_dams or (named_for_sires and as_dams == 0):
            warn_user(
                f"Animal({self.column!r}, maternal={self.maternal!r}): of the {len(given)} parents in column "
                f"{self.maternal!r}, {as_sires} are sires and {as_dams} dams in the pedigree. A maternal effect is "
                "what a mother gives her offspring beyond her genes: maternal= names the column of each record's "
                "dam (or foster mother). Fitting a sire's effect this way is legal but is not a maternal model.")

    def _setup_joint(self) -> None:
        """Pattern and position maps of C = Z'WZ/sigma2_e + A^-1 (x) G^-1 (equations 2i, 2i + 1)."""
        self._factor = None
        if not self.joint:
            return
        q = self.n_levels
        ptr, idx, _ = self._prec
        ainv_rows = np.repeat(np.arange(q), np.diff(ptr))
        own, dam = self._own_index, self._dam_index
        has_dam = dam >= 0
        rows = [2 * ainv_rows + e for e in (0, 1) for f in (0, 1)]
        cols = [2 * idx + f for e in (0, 1) for f in (0, 1)]
        record_rows = [2 * own, 2 * dam[has_dam] + 1, 2 * own[has_dam], 2 * dam[has_dam] + 1]
        record_cols = [2 * own, 2 * dam[has_dam] + 1, 2 * dam[has_dam] + 1, 2 * own[has_dam]]
        all_rows = np.concatenate(rows + record_rows + [np.arange(2 * q)])
        all_cols = np.concatenate(cols + record_cols + [np.arange(2 * q)])
        pattern = sp.csr_matrix((np.ones(all_rows.size), (all_rows, all_cols)), shape=(2 * q, 2 * q))
        pattern.sum_duplicates()
        pattern.sort_indices()
        self._factor = SparseCholesky(pattern, max_factor_nonzeros=JOINT_MAX_FACTOR_NONZEROS)
        keys = np.repeat(np.arange(2 * q), np.diff(pattern.indptr)) * (2 * q) + pattern.indices

        def position(r, c):
            return np.searchsorted(keys, r * (2 * q) + c).astype(np.int64)

        self._n_values = pattern.nnz
        self._ainv_positions = [position(r, c) for r, c in zip(rows, cols)]
        self._record_positions = (position(2 * own, 2 * own), position(2 * dam[has_dam] + 1, 2 * dam[has_dam] + 1),
                                  position(2 * own[has_dam], 2 * dam[has_dam] + 1),
                                  position(2 * dam[has_dam] + 1, 2 * own[has_dam]))
        self._has_dam = has_dam

    @property
    def n_levels(self) -> int:
        return len(self.levels)

    def incidence(self) -> sp.csr_matrix:
        """[Z_d  Z_m] (records x 2q): a 1 in the record's animal's column of Z_d and in its dam's of Z_m."""
        n, q = self._own_index.size, self.n_levels
        has_dam = np.flatnonzero(self._dam_index >= 0)
        rows = np.concatenate([np.arange(n), has_dam])
        cols = np.concatenate([self._own_index, q + self._dam_index[has_dam]])
        return sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, 2 * q))

    def coords(self) -> list:
        return list(id_labels(self.levels))

    # ------------------------------------------------------------------ declared variables
    def variables(self) -> list[Variable]:
        effects = {self.level_dim: self.coords(), "effect": EFFECTS}
        matrix = {"effect_row": EFFECTS, "effect_col": EFFECTS}
        return [
            Variable(self.effect_name, (self.level_dim, "effect"), effects, high_dimensional=True),
            Variable(self.variance_name, ("effect_row", "effect_col"), matrix),
            Variable(self.correlation_name),
        ]

    # ------------------------------------------------------------------ states and updates
    def init_state(self, rng) -> dict:
        g = np.array(self.prior.initial_value(self._start), dtype=np.float64).reshape(2, 2)
        if self.prior.sampled:
            g = g * rng.uniform(0.5, 2.0)
        state = {"u": np.zeros((self.n_levels, 2), order="F"), "sigma2": g, "prior_aux": self.prior.init_aux(rng)}
        if self._factor is not None:
            state["factor"] = self._factor.copy()  # numeric storage per chain (chains run in threads)
        return state

    def draw_prior(self, rng, state) -> None:
        state["sigma2"][:] = self.prior.draw_prior(rng, state["prior_aux"])
        # U = L_P^-T Z L_G': rows have covariance G, columns covariance A = P^-1.
        z = rng.standard_normal((self.n_levels, 2))
        chol_p = np.linalg.cholesky(self.precision.toarray())
        state["u"][:] = np.linalg.solve(chol_p.T, z) @ np.linalg.cholesky(state["sigma2"]).T

    def step(self, rng, state, ctx: StepContext) -> dict:
        g_inv = np.linalg.inv(state["sigma2"])
        if self._factor is not None:
            self.draw_effects_jointly(rng, state, ctx, g_inv)
        else:
            sweep_direct_maternal(rng, state["u"], ctx.resid[:, 0], ctx.weights[:, 0], self._own_ptr,
                                  self._own_idx, self._dam_ptr, self._dam_idx, *self._prec, ctx.sigma2_e, g_inv)
        self.draw_variance(rng, state)
        if self.prior.sampled:
            return {f"rescale_accept_{self.name}": float(self.rescale_move(rng, state, ctx))}
        return {}

    def draw_variance(self, rng, state) -> None:
        """G from its full conditional given the effects, SS = [a_d, a_m]' A^-1 [a_d, a_m] from q animals."""
        ss = quadratic_form_matrix(state["u"], *self._prec)
        state["sigma2"][:] = self.prior.draw_posterior(rng, ss, self.n_levels, state["prior_aux"])

    @property
    def _rescales(self) -> bool:
        """Whether the GL(2) move runs after G's update (in the term's own step and the joint block)."""
        return bool(self.prior.sampled)

    def rescale_move(self, rng, state, ctx: StepContext) -> bool:
        r"""Joint linear move :math:`\theta_i \to M\theta_i` for every animal, :math:`G \to MGM'`.

        A generalised Gibbs step on the group GL(2) (Liu & Sabatti 2000; the two-dimensional
        version of ``Random.rescale_move``): it mixes the effects and G together along the
        ridges that single updates of the effects given G and of G given the effects travel
        slowly (variances against the residual, and the direct-maternal correlation). With
        Haar measure :math:`dM/|\det M|^2`, the target on the group is
        :math:`\pi(UM', MGM')\,|\det M|^{q + 3}` (q animals; three free elements of G); the
        effects' prior contributes :math:`|\det M|^{-q}`. The fit
        :math:`Z_d a_d' + Z_m a_m'` is linear in the four entries m of M,
        :math:`Fm` with :math:`F = [Z_d a_d, Z_d a_m, Z_m a_d, Z_m a_m]`, so the likelihood is
        Gaussian in m: the proposal is :math:`m^* \sim N((F'WF)^{-1}F'W\tilde e,\;
        \sigma^2_e (F'WF)^{-1})` (:math:`\tilde e` the residual with the fit added back),
        accepted with probability :math:`\min(1, f(M^*)/f(I))`,
        :math:`f(M) = p(MGM')\,|\det M|` (p the prior density of G; the Gaussian parts, and
        the Haar factors of the forward and reverse proposals, cancel). Cost O(records).
        Returns whether the move was accepted.
        """
        u, g = state["u"], state["sigma2"]
        weights = ctx.weights[:, 0]
        resid = ctx.resid[:, 0]
        has_dam = self._dam_index >= 0
        fits = np.zeros((resid.size, 4))
        fits[:, 0] = u[self._own_index, 0]
        fits[:, 1] = u[self._own_index, 1]
        fits[has_dam, 2] = u[self._dam_index[has_dam], 0]
        fits[has_dam, 3] = u[self._dam_index[has_dam], 1]
        weighted = fits * weights[:, None]
        gram = weighted.T @ fits
        try:
            chol = np.linalg.cholesky(gram)
        except np.linalg.LinAlgError:
            return False
        if not np.all(np.diag(chol) > 1e-8 * np.sqrt(np.diag(gram).max())):
            return False
        current_fit = fits[:, 0] + fits[:, 3]
        mean = np.linalg.solve(gram, weighted.T @ (resid + current_fit))
        # m* = mean + sigma_e L'^-1 z has covariance sigma2_e (LL')^-1 = sigma2_e gram^-1.
        proposal = mean + np.sqrt(ctx.sigma2_e) * np.linalg.solve(chol.T, rng.standard_normal(4))
        log_u = np.log(rng.random())
        matrix = proposal.reshape(2, 2)
        det = float(np.linalg.det(matrix))
        if det == 0.0:
            return False
        aux = state["prior_aux"]  # kept fixed by the move: the prior's conditional density given them
        moved = matrix @ g @ matrix.T
        moved = 0.5 * (moved + moved.T)
        log_ratio = self.prior.log_density(moved, aux) - self.prior.log_density(g, aux) + np.log(abs(det))
        if log_u < log_ratio:
            resid -= fits @ proposal - current_fit
            u[:] = u @ matrix.T
            g[:] = moved
            return True
        return False

    def info_variables(self) -> list[Variable]:
        return [Variable(f"rescale_accept_{self.name}", group="sample_stats")] if self.prior.sampled else []

    def draw_effects_jointly(self, rng, state, ctx: StepContext, g_inv: np.ndarray) -> None:
        """All (direct, maternal) effects in one draw from N(C^-1 Z'W e~ / sigma2_e, C^-1) (see the class)."""
        u = state["u"]
        resid = ctx.resid[:, 0]
        sigma2_e = ctx.sigma2_e
        fit = self.fitted(state)[:, 0]
        resid += fit  # e~: the residual without this term
        values = np.zeros(self._n_values)
        ainv = self._prec[2]
        for positions, (e, f) in zip(self._ainv_positions, ((0, 0), (0, 1), (1, 0), (1, 1))):
            values[positions] += ainv * g_inv[e, f]
        w = ctx.weights[:, 0] / sigma2_e
        w_dam = w[self._has_dam]
        for positions, weight in zip(self._record_positions, (w, w_dam, w_dam, w_dam)):
            values += np.bincount(positions, weights=weight, minlength=self._n_values)
        q = self.n_levels
        we = w * resid
        rhs = np.empty(2 * q)
        rhs[0::2] = np.bincount(self._own_index, weights=we, minlength=q)
        rhs[1::2] = np.bincount(self._dam_index[self._has_dam], weights=we[self._has_dam], minlength=q)
        factor = state["factor"]
        factor.factorize(values)
        theta = factor.draw(rng, rhs)
        u[:, 0] = theta[0::2]
        u[:, 1] = theta[1::2]
        resid -= self.fitted(state)[:, 0]

    def fitted(self, state) -> np.ndarray:
        u = state["u"]
        out = u[self._own_index, 0].copy()
        has_dam = self._dam_index >= 0
        out[has_dam] += u[self._dam_index[has_dam], 1]
        return out[:, None]

    def record(self, state, ctx) -> dict:
        g = state["sigma2"]
        return {self.effect_name: state["u"].copy(), self.variance_name: g.copy(),
                self.correlation_name: float(g[0, 1] / np.sqrt(g[0, 0] * g[1, 1]))}

    def variance(self, state):
        """The term's share of the phenotypic variance: sigma2_d + sigma_dm + sigma2_m (1 x 1)."""
        g = state["sigma2"]
        return np.array([[g[0, 0] + g[0, 1] + g[1, 1]]])

    def genetic_variance(self, state):
        """What counts as genetic in ``h2``: the direct variance sigma2_d (1 x 1)."""
        return state["sigma2"][:1, :1].copy()

    def log_prior(self, state) -> float:
        return self.prior.log_density(state["sigma2"]) if self.prior.sampled else 0.0

    def priors(self) -> dict:
        return {self.variance_name: self.prior.to_dict()}

    def describe(self) -> dict:
        return {"term": "MaternalAnimal", "name": self.name, "column": self.column, "maternal": self.maternal,
                "levels": self.n_levels, "dams": self.n_dams, "prior": self.prior.to_dict(),
                "effects": "joint" if self._factor is not None else "single-site"}


def _records_by_level(level_of_record: np.ndarray, q: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR-like (ptr, idx): the records of level k are idx[ptr[k]:ptr[k+1]]; level -1 = none."""
    keep = np.flatnonzero(level_of_record >= 0)
    order = keep[np.argsort(level_of_record[keep], kind="stable")]
    ptr = np.searchsorted(level_of_record[order], np.arange(q + 1)).astype(np.int64)
    return ptr, order.astype(np.int64)


@kernel
def sweep_direct_maternal(rng, u, resid, weights, own_ptr, own_idx, dam_ptr, dam_idx, prec_ptr, prec_idx, prec_val,
                          sigma2_e, g_inv):
    r"""Draw each animal's (direct, maternal) pair from its 2 x 2 full conditional (see ``MaternalAnimal``).

    ``u``: (animals x 2); the records of animal i are ``own_idx[own_ptr[i]:own_ptr[i+1]]``, those
    of its offspring (i as dam) ``dam_idx[dam_ptr[i]:dam_ptr[i+1]]``; :math:`A^{-1}` as CSR arrays;
    ``g_inv`` = :math:`G^{-1}`. The draw is :math:`\mu + L^{-T} z` with :math:`Q = LL'`.
    Modifies ``u`` and ``resid`` (own records by the change of :math:`a_d`, offspring records
    by the change of :math:`a_m`). Cost O(records + nnz(A^-1)) per sweep.
    """
    q = u.shape[0]
    g00, g01, g11 = g_inv[0, 0], g_inv[0, 1], g_inv[1, 1]
    for i in range(q):
        n_d = 0.0
        e_d = 0.0
        for k in range(own_ptr[i], own_ptr[i + 1]):
            r = own_idx[k]
            n_d += weights[r]
            e_d += weights[r] * resid[r]
        n_m = 0.0
        e_m = 0.0
        for k in range(dam_ptr[i], dam_ptr[i + 1]):
            r = dam_idx[k]
            n_m += weights[r]
            e_m += weights[r] * resid[r]
        diag = 0.0
        off_d = 0.0
        off_m = 0.0
        for k in range(prec_ptr[i], prec_ptr[i + 1]):
            j = prec_idx[k]
            if j == i:
                diag += prec_val[k]
            else:
                off_d += prec_val[k] * u[j, 0]
                off_m += prec_val[k] * u[j, 1]
        q00 = n_d / sigma2_e + diag * g00
        q01 = diag * g01
        q11 = n_m / sigma2_e + diag * g11
        b0 = (e_d + n_d * u[i, 0]) / sigma2_e - (g00 * off_d + g01 * off_m)
        b1 = (e_m + n_m * u[i, 1]) / sigma2_e - (g01 * off_d + g11 * off_m)
        det = q00 * q11 - q01 * q01
        mean0 = (q11 * b0 - q01 * b1) / det
        mean1 = (q00 * b1 - q01 * b0) / det
        l00 = np.sqrt(q00)
        l10 = q01 / l00
        l11 = np.sqrt(q11 - l10 * l10)
        x1 = rng.standard_normal() / l11
        x0 = (rng.standard_normal() - l10 * x1) / l00
        new0 = mean0 + x0
        new1 = mean1 + x1
        delta0 = new0 - u[i, 0]
        delta1 = new1 - u[i, 1]
        for k in range(own_ptr[i], own_ptr[i + 1]):
            resid[own_idx[k]] -= delta0
        for k in range(dam_ptr[i], dam_ptr[i + 1]):
            resid[dam_idx[k]] -= delta1
        u[i, 0] = new0
        u[i, 1] = new1


def total_heritability(idata, name: str = "animal") -> xr.DataArray:
    r"""Willham's (1972) total heritability per draw, from a direct–maternal fit.

    :math:`h^2_T = (\sigma^2_d + 1.5\,\sigma_{dm} + 0.5\,\sigma^2_m)/\sigma^2_p`: the share of the
    phenotypic variance that responds to selection on the phenotype (the regression of
    offspring on its own and its dam's records). :math:`\sigma^2_p` is recovered per draw from
    the recorded direct heritability, :math:`\sigma^2_p = \sigma^2_d/h^2`, so it includes every
    variance component of the model (permanent environment, residual, ...), exactly as
    ``h2``. ``name`` is the term's name (default ``"animal"``: G recorded as ``sigma2_a``).
    """
    if not isinstance(getattr(idata, "posterior", None), xr.Dataset):
        raise TypeError(f"idata must be an arviz.InferenceData with a posterior group (from model.sample() on a "
                        f"direct-maternal model), got {type(idata).__name__}.")
    if not isinstance(name, str):
        raise TypeError(f"name must be the name of the direct-maternal term (str), got {name!r}.")
    variance_name = "sigma2_a" if name == "animal" else f"sigma2_{name}"
    post = idata.posterior
    if variance_name not in post or "h2" not in post:
        raise KeyError(f"total_heritability needs {variance_name!r} and 'h2' in idata.posterior (a fit with "
                       f"Animal(..., maternal=...) named {name!r}); found {preview(list(post.data_vars))}.")
    g = post[variance_name]
    if set(g.dims) != {"chain", "draw", "effect_row", "effect_col"}:
        raise ValueError(f"{variance_name!r} has dims {g.dims}; it is not the G matrix of a direct-maternal term.")
    var_d = g.sel(effect_row="direct", effect_col="direct")
    var_m = g.sel(effect_row="maternal", effect_col="maternal")
    cov = g.sel(effect_row="direct", effect_col="maternal")
    phenotypic = var_d / post["h2"]
    out = (var_d + 1.5 * cov + 0.5 * var_m) / phenotypic
    return out.drop_vars(["effect_row", "effect_col"], errors="ignore").rename("h2_total")
