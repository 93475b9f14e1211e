"""BayesR prior on marker effects (Erbe et al. 2012; Moser et al. 2015)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._deprecation import renamed_arguments
from .._typing import PriorArg
from .._validation import check_positive_finite
from ..kernels.spike_slab import sweep_markers_mixture
from ..variable import Variable
from .inclusion import log_odds
from .marker_prior import MarkerPrior, parse_common_variance
from .scaled_inv_chi2 import ScaledInvChi2

#: BayesR's default variance multipliers of the classes (the first is the spike).
DEFAULT_GAMMA = (0.0, 1e-4, 1e-3, 1e-2)
DEFAULT_DF = 5.0


class BayesRPrior(MarkerPrior):
    r"""BayesR: :math:`\alpha_j \sim \sum_k \pi_k N(0, \gamma_k \sigma^2_\alpha)`, :math:`\gamma_0 = 0`.

    Parameters
    ----------
    gamma : sequence of float, default (0, 1e-4, 1e-3, 1e-2)
        Variance multipliers of the classes; the first must be 0 (markers without effect),
        the others positive.
    dirichlet : sequence of float or None
        Parameters of the Dirichlet prior on the class proportions :math:`\pi` (default all 1).
    prior : None, float, FixedVariance or ScaledInvChi2
        :math:`\sigma^2_\alpha`: fixed, sampled under the given prior, or (``None``) sampled
        under :math:`\text{Scale-inv-}\chi^2(5, S^2)` with mode such that the prior expected
        variance per marker :math:`\sigma^2_\alpha\sum_k\bar\pi_k\gamma_k` is the R²-rule variance
        (:math:`\bar\pi` the Dirichlet mean).
    pi_move : bool, default True
        Before each sweep, a Metropolis-Hastings move of the class proportions with every
        marker's class redrawn (:meth:`proportion_move`), which lets the split of the markers
        between weakly distinguished classes (the spike and :math:`10^{-4}`) travel instead of
        creeping.
    pi_moves : int, default 2
        How many proportion moves run before each sweep (each costs one sweep). On wheat at
        ``sample()``'s defaults, two moves gave the slowest proportion 1.2-1.7 times the ESS per
        second of one (docs/performance.md, issue 23 item 3).
    pi_step : float, default 1
        The standard deviation of that move's proposal on the logit of the two classes' split.

    Notes
    -----
    Sampling: the sweep draws each (class, :math:`\alpha_j`) jointly
    (:func:`bayesgen.kernels.spike_slab.sweep_markers_mixture`); then
    :math:`\pi \mid \cdot \sim \text{Dirichlet}(d + n)` with class counts n, and
    :math:`\sigma^2_\alpha \mid \cdot \sim \text{Scale-inv-}\chi^2(\nu + m, (\nu S^2 + \sum_{j:k_j>0}\alpha_j^2/\gamma_{k_j})/(\nu + m))`,
    m the number of included markers. Records per draw ``class_counts`` (dim
    ``bayes_r_class``), the proportions ``pi`` (same dim), ``n_included``, and ``sigma2_alpha`` when sampled.
    With :math:`\sigma^2_\alpha` sampled, the Markers term also moves
    :math:`(\alpha, \sigma^2_\alpha)` to :math:`(k\alpha, k^2\sigma^2_\alpha)` after each sweep
    (``rescale_log_density``; ``Markers(expand=True)``, the default).

    A class whose variance is tiny next to what the data can resolve (the default
    :math:`10^{-4}\sigma^2_\alpha`) is nearly indistinguishable from the zero class: the split of
    markers between the two, so ``n_included``, ``pi`` of those two classes and the PIP
    :math:`P(\alpha_j \neq 0)`, is weakly identified (a marker's data barely tell the two
    apart). Gibbs draws alone mix it slowly: given the labels, :math:`\pi` moves by about
    :math:`1/\sqrt{p}` per iteration, and given :math:`\pi` the labels follow it. The
    proportion move (``pi_move=True``, the default) moves :math:`\pi` and the labels together.
    """

    name = "BayesR"
    spike_and_slab = True
    gaussian_sweep = False
    one_slab = False

    @renamed_arguments(variance="prior")
    def __init__(
        self,
        gamma: Sequence[float] = DEFAULT_GAMMA,
        dirichlet: Sequence[float] | None = None,
        prior: PriorArg = None,
        pi_move: bool = True,
        pi_step: float = 1.0,
        pi_moves: int = 2,
    ):
        gamma = np.asarray(gamma, dtype=np.float64)
        if gamma.ndim != 1 or gamma.size < 2 or gamma[0] != 0.0 or not np.all(np.isfinite(gamma[1:]) & (gamma[1:] > 0)):
            raise ValueError(
                f"BayesR gamma must start with 0 followed by positive finite multipliers, got {gamma.tolist()!r}."
            )
        self.gamma = gamma
        dirichlet = np.ones(gamma.size) if dirichlet is None else np.asarray(dirichlet, dtype=np.float64)
        if dirichlet.shape != gamma.shape or not np.all(np.isfinite(dirichlet) & (dirichlet > 0)):
            raise ValueError(
                f"BayesR dirichlet must hold {gamma.size} positive numbers (one per class of gamma), "
                f"got {dirichlet.tolist()!r}."
            )
        self.dirichlet = dirichlet
        self.variance_prior, self.variance = parse_common_variance(prior, "BayesR")
        self._start = self.variance
        if not isinstance(pi_move, (bool, np.bool_)):
            raise TypeError(f"BayesR pi_move must be True or False, got {pi_move!r}.")
        self.pi_move = bool(pi_move)
        self.pi_step = check_positive_finite(pi_step, "BayesR pi_step")
        if isinstance(pi_moves, (bool, np.bool_)) or not isinstance(pi_moves, (int, np.integer)) or pi_moves < 1:
            raise ValueError(f"BayesR pi_moves must be an integer >= 1, got {pi_moves!r}.")
        self.pi_moves = int(pi_moves)

    @property
    def samples_variance(self) -> bool:
        return self.variance_prior is not None

    def bind(self, default_variance: float) -> None:
        mean_pi = self.dirichlet / self.dirichlet.sum()
        mode = default_variance / float(mean_pi @ self.gamma)
        if self.variance is None and self.variance_prior is None:
            self.variance_prior = ScaledInvChi2(DEFAULT_DF, mode * (DEFAULT_DF + 2.0) / DEFAULT_DF)
        self._start = self.variance if self.variance is not None else self.variance_prior.mode()

    def variables(self) -> list[Variable]:
        out = [
            Variable("class_counts", ("bayes_r_class",), {"bayes_r_class": np.arange(self.gamma.size)}),
            Variable("pi", ("bayes_r_class",), {"bayes_r_class": np.arange(self.gamma.size)}),
            Variable("n_included"),
        ]
        if self.samples_variance:
            out.append(Variable("sigma2_alpha"))
        return out

    def init_state(self, rng: np.random.Generator, n_markers: int) -> dict:
        start = self._start * rng.uniform(0.5, 2.0) if self.samples_variance else self._start
        return {
            "var_alpha": np.full(n_markers, start),
            "sigma2_alpha": np.array([start]),
            "pi": self.dirichlet / self.dirichlet.sum(),
            "classes": np.zeros(n_markers, dtype=np.int64),
        }

    def sweep(
        self, rng, alpha, state, codes, lookup, xx, code_stats, resid, weights, genetic_values, residual_covariance
    ) -> None:
        """The mixture sweep, after ``pi_moves`` of :meth:`proportion_move` (``pi_move``)."""
        args = (codes, lookup, xx, code_stats, resid, weights, genetic_values, residual_covariance)
        for _ in range(self.pi_moves if self.pi_move else 0):
            self.proportion_move(rng, alpha, state, *args)
        self._sweep(rng, alpha, state, *args)

    def _sweep(
        self,
        rng,
        alpha,
        state,
        codes,
        lookup,
        xx,
        code_stats,
        resid,
        weights,
        genetic_values,
        residual_covariance,
        reverse=False,
        reference=None,
    ) -> None:
        with np.errstate(divide="ignore"):
            log_weights = np.log(state["pi"])
        sweep_markers_mixture(
            rng,
            alpha[:, 0],
            state["classes"],
            log_weights,
            self.gamma * state["sigma2_alpha"][0],
            codes,
            lookup,
            xx,
            resid[:, 0],
            weights,
            genetic_values[:, 0],
            float(residual_covariance[0, 0]),
            code_stats,
            reverse,
            reference,
        )

    def proportion_move(
        self, rng, alpha, state, codes, lookup, xx, code_stats, resid, weights, genetic_values, residual_covariance
    ) -> bool:
        r"""One Metropolis-Hastings move of the class proportions (and :math:`\sigma^2_\alpha`), with
        every marker's (class, :math:`\alpha_j`) redrawn; returns whether it was accepted.

        Proposal, each kind with probability 1/3: (i) :math:`\pi^*` from the Dirichlet prior, an
        independence proposal (where the data hardly inform the proportions it crosses the whole
        simplex in one step); for two neighbouring classes :math:`a, b = a + 1` drawn uniformly,
        with :math:`t = \pi_a + \pi_b` and :math:`u = \pi_a / t`, :math:`\pi^*_a = tu^*` and
        :math:`\pi^*_b = t(1-u^*)`, the other proportions kept, where (ii) :math:`u^* \sim
        \text{Beta}(d_a, d_b)`, the split's prior given :math:`t` (an independence proposal for a
        split the data hardly inform, as that of the spike and the :math:`10^{-4}` class), or
        (iii) :math:`\mathrm{logit}\,u^* = \mathrm{logit}\,u + \epsilon`,
        :math:`\epsilon \sim N(0, \text{pi\_step}^2)`, a random walk. With :math:`\sigma^2_\alpha`
        sampled, every kind also sets
        :math:`\sigma^{2*}_\alpha = \sigma^2_\alpha V(\pi)/V(\pi^*)`, :math:`V(\pi) = \sum_k\pi_k\gamma_k`,
        which keeps the prior variance per marker :math:`\sigma^2_\alpha V(\pi)`. In the
        coordinates :math:`(\mathrm{logit}\,u, \log\sigma^2_\alpha)` the random walk's map is
        :math:`(x, y) \to (x + \epsilon, y + g(x) - g(x + \epsilon))`, :math:`g = \log V`: an
        involution with :math:`-\epsilon` of unit Jacobian determinant; the independence
        proposals' :math:`(\pi, y, \pi^*) \to (\pi^*, y + g(\pi) - g(\pi^*), \pi)` likewise (in
        :math:`u` for (ii)). Then one Gibbs sweep of every marker at :math:`\theta^* = (\pi^*, \sigma^{2*}_\alpha)`, in a random direction. As
        for BayesC\ :math:`\pi`'s ridge move
        (:meth:`~bayesgen.priors.ridge_move.PiRidgeMove.ridge_move`), the intermediate states of the
        sweep cancel and the Hastings ratio of the random walk is

        .. math:: \frac{\mathrm{Dir}(\pi^*)\,p(\sigma^{2*}_\alpha)}{\mathrm{Dir}(\pi)\,p(\sigma^2_\alpha)}
                  \cdot\frac{u^*(1-u^*)\,\sigma^{2*}_\alpha}{u(1-u)\,\sigma^2_\alpha}
                  \cdot\prod_j\frac{m_j(z_j;\theta^*)}{m_j(z_j;\theta)},

        :math:`m_j = \sum_k \pi_k\mathrm{BF}_{jk}` marker j's prior predictive relative to the
        spike in the state :math:`z_j` it is drawn in, accumulated by the sweep at both
        :math:`\theta^*` and :math:`\theta` (:func:`bayesgen.kernels.spike_slab.sweep_markers_mixture`,
        ``reference``); for the independence proposals the Dirichlet densities cancel against the
        proposals' and the first two factors are :math:`p(\sigma^{2*}_\alpha)\sigma^{2*}_\alpha /
        (p(\sigma^2_\alpha)\sigma^2_\alpha)`. For the spike and the :math:`10^{-4}` class,
        :math:`\mathrm{BF}_{j1} \approx 1` for most markers, so :math:`m_j` barely changes when
        mass moves between them and (ii) redraws their split almost freely.
        """
        pi = state["pi"]
        kind = int(rng.integers(3))
        share = share_new = 0.5  # the logit Jacobian cancels unless a pair takes a logit step
        log_ratio = 0.0  # the Dirichlet prior's ratio and an independence proposal's cancel
        if kind == 0:
            pi_new = rng.dirichlet(self.dirichlet)
        else:
            a = int(rng.integers(pi.size - 1))  # neighbouring classes: the ones the data confuse
            b = a + 1
            total = pi[a] + pi[b]
            if kind == 1:
                share_a = rng.beta(self.dirichlet[a], self.dirichlet[b])
            else:
                share = pi[a] / total
                if not 0.0 < share < 1.0:
                    return False
                share_a = share_new = 1.0 / (1.0 + np.exp(-(log_odds(share) + self.pi_step * rng.standard_normal())))
            pi_new = pi.copy()
            pi_new[a], pi_new[b] = total * share_a, total * (1.0 - share_a)
            if kind == 2 and np.all(pi_new > 0.0):
                log_ratio = (self.dirichlet[a] - 1.0) * (np.log(pi_new[a]) - np.log(pi[a])) + (
                    self.dirichlet[b] - 1.0
                ) * (np.log(pi_new[b]) - np.log(pi[b]))
        if not np.all(pi_new > 0.0):
            return False
        sigma2 = sigma2_new = state["sigma2_alpha"][0]
        if self.samples_variance:
            sigma2_new = sigma2 * float(pi @ self.gamma) / float(pi_new @ self.gamma)
            log_ratio += self.variance_prior.log_density(sigma2_new) - self.variance_prior.log_density(sigma2)
        log_ratio += self._log_jacobian(share_new, sigma2_new) - self._log_jacobian(share, sigma2)
        if not np.isfinite(log_ratio):
            return False
        kept = (alpha.copy(), resid[:, 0].copy(), genetic_values[:, 0].copy(), state["classes"].copy(), pi.copy())
        with np.errstate(divide="ignore"):
            reference = np.concatenate((np.log(pi), self.gamma * sigma2, [0.0]))  # theta
        state["pi"][:] = pi_new
        state["sigma2_alpha"][0] = sigma2_new
        args = (codes, lookup, xx, code_stats, resid, weights, genetic_values, residual_covariance)
        self._sweep(rng, alpha, state, *args, reverse=bool(rng.random() < 0.5), reference=reference)
        if np.log(rng.random()) < log_ratio + reference[-1]:
            return True
        alpha[:], resid[:, 0], genetic_values[:, 0], state["classes"][:], state["pi"][:] = kept
        state["sigma2_alpha"][0] = sigma2
        return False

    @staticmethod
    def _log_jacobian(share: float, sigma2: float) -> float:
        r""":math:`\log(u(1-u)\sigma^2_\alpha)`: the density of :math:`(\pi_a, \sigma^2_\alpha)` taken to
        :math:`(\mathrm{logit}\,u, \log\sigma^2_\alpha)`, up to the constant :math:`\pi_a + \pi_b`."""
        return float(np.log(share * (1.0 - share) * sigma2))

    def update(self, rng: np.random.Generator, alpha: np.ndarray, state: dict) -> None:
        alpha = alpha[:, 0]  # one trait
        classes = state["classes"]
        counts = np.bincount(classes, minlength=self.gamma.size)
        if self.samples_variance:
            included = classes > 0
            ss = float(np.sum(alpha[included] ** 2 / self.gamma[classes[included]]))
            state["sigma2_alpha"][0] = self.variance_prior.draw_posterior(rng, ss, int(included.sum()))[0, 0]
        state["pi"][:] = rng.dirichlet(self.dirichlet + counts)

    def scale_parameter(self):
        """The rescaling move's parameter (the common variance): sampled only when samples_variance."""
        return ("sigma2_alpha", 2.0, self.variance_prior) if self.samples_variance else None

    def draw_prior(self, rng: np.random.Generator, state: dict) -> np.ndarray:
        if self.samples_variance:
            state["sigma2_alpha"][0] = self.variance_prior.draw_prior(rng)[0, 0]
        state["pi"][:] = rng.dirichlet(self.dirichlet)
        p = state["classes"].size
        state["classes"][:] = rng.choice(self.gamma.size, size=p, p=state["pi"])
        sd = np.sqrt(self.gamma[state["classes"]] * state["sigma2_alpha"][0])
        return rng.standard_normal(p) * sd

    def log_prior(self, state: dict) -> float:
        return self.variance_prior.log_density(state["sigma2_alpha"][0]) if self.samples_variance else 0.0

    def record(self, state: dict) -> dict:
        counts = np.bincount(state["classes"], minlength=self.gamma.size).astype(np.float64)
        out = {"class_counts": counts, "pi": state["pi"].copy(), "n_included": int(counts[1:].sum())}
        if self.samples_variance:
            out["sigma2_alpha"] = state["sigma2_alpha"][0]
        return out

    def to_dict(self) -> dict:
        return {
            "family": self.name,
            "gamma": self.gamma.tolist(),
            "dirichlet": self.dirichlet.tolist(),
            "variance": self.variance_prior.to_dict() if self.samples_variance else self.variance,
        }

    def __repr__(self) -> str:
        variance = self.variance_prior if self.samples_variance else self.variance
        return f"BayesRPrior(gamma={self.gamma.tolist()!r}, dirichlet={self.dirichlet.tolist()!r}, prior={variance!r})"
