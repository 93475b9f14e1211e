"""The pointwise log-likelihood a model records for leave-one-out: random effects integrated out.

Each record's log-likelihood conditions, by default, on every parameter of the model,
including the random effects of its own levels (its animal's breeding value, its mother's
effect), which that record informs strongly: importance-sampling LOO then fails (Pareto k
above 0.7 for many records). Integrating those effects out of the record's likelihood, given
every other effect and the other records, gives :math:`\\log p(y_r \\mid y_{-r}, \\phi)`: the
quantity that makes PSIS-LOO right for models whose likelihood does not factorise over
records (Bürkner, Gabry & Vehtari 2021), and for Gaussian latent effects it is closed form
(Vehtari et al. 2016). ``bayesgen.kernels.pointwise`` does the algebra per record.
"""

from __future__ import annotations

import numpy as np

from ..kernels.pointwise import integrate_own_effects, integrate_with_counts, shared_level_counts


class IntegratedLikelihood:
    """Shift and extra variance of each record's residual with its random effects integrated out."""

    def __init__(self, terms: list, indices: list, weights: np.ndarray):
        self.terms = terms
        self.indices = indices
        own = [t.own_levels() for t in terms]  # record -> its level, per term (location protocol)
        self.levels = np.ascontiguousarray(np.stack(own)).astype(np.int64)
        sizes = [t.n_levels for t in terms]
        self.level_offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        ptrs, idx, start = [np.zeros(1, dtype=np.int64)], [], 0
        for levels, size in zip(own, sizes):
            order = np.argsort(levels, kind="stable").astype(np.int64)
            ptr = np.searchsorted(levels[order], np.arange(size + 1)).astype(np.int64)
            ptrs.append(ptr[1:] + start)
            idx.append(order)
            start += order.size
        self.rec_ptr = np.concatenate(ptrs).astype(np.int64)
        self.rec_idx = np.concatenate(idx).astype(np.int64)
        # Which observed records share which of a record's levels: the design's, computed once
        # (``weights``: the records' 0/1 observed weights, as every chain's context holds them).
        self.weights = np.ascontiguousarray(weights, dtype=np.float64)
        self.counts = None
        if len(terms) > 1:
            self.counts = shared_level_counts(self.levels, self.rec_ptr, self.rec_idx, self.level_offsets, self.weights)

    def __call__(self, states, ctx):
        precision, prior_shift, effects = [], [], []
        for term, k in zip(self.terms, self.indices):
            p, s = term.conditional_prior(states[k])
            precision.append(p)
            prior_shift.append(s)
            effects.append(term.effects(states[k])[:, 0])
        n = self.levels.shape[1]
        shift, extra = np.zeros(n), np.zeros(n)
        weights = np.ascontiguousarray(ctx.weights[:, 0])
        arguments = (
            np.concatenate(precision),
            np.concatenate(prior_shift),
            np.concatenate(effects),
            np.ascontiguousarray(ctx.resid[:, 0]),
            weights,
            ctx.sigma2_e,
            shift,
            extra,
        )
        if self.counts is not None and np.array_equal(weights, self.weights):
            integrate_with_counts(self.levels, self.level_offsets, self.counts, *arguments)
        else:
            integrate_own_effects(self.levels, self.rec_ptr, self.rec_idx, self.level_offsets, *arguments)
        return shift, extra
