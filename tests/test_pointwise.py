"""The integrated pointwise likelihood kernel (``bayesgen.kernels.pointwise``) against the
per-record dense solve it replaced and, for one term, against Gaussian conditioning."""

import numpy as np
import pytest

from bayesgen.kernels.pointwise import integrate_own_effects


def reference_integrate_own_effects(
    levels, rec_ptr, rec_idx, level_offsets, prior_precision, prior_shift, effects, resid, weights, sigma2_e
):
    """The previous implementation (one ``np.linalg.solve`` per record), in plain Python."""
    n_terms, n = levels.shape
    shift, extra = np.zeros(n), np.zeros(n)
    for r in range(n):
        if weights[r] == 0.0:
            continue
        q, rhs, own = np.zeros((n_terms, n_terms)), np.zeros(n_terms), 0.0
        for t in range(n_terms):
            row = level_offsets[t] + levels[t, r]
            q[t, t] = prior_precision[row]
            rhs[t] = -prior_shift[row]
            own += effects[row]
        for t in range(n_terms):
            row = level_offsets[t] + levels[t, r]
            for other in rec_idx[rec_ptr[row] : rec_ptr[row + 1]]:
                if other == r or weights[other] == 0.0:
                    continue
                shared = levels[:, other] == levels[:, r]
                if np.flatnonzero(shared)[0] != t:
                    continue  # counted at the first shared term
                partial = resid[other] + sum(effects[level_offsets[s] + levels[s, r]] for s in np.flatnonzero(shared))
                rhs[shared] += partial / sigma2_e
                q[np.ix_(shared, shared)] += 1.0 / sigma2_e
        solved = np.linalg.solve(q, np.column_stack([rhs, np.ones(n_terms)]))
        shift[r] = own - solved[:, 0].sum()
        extra[r] = solved[:, 1].sum()
    return shift, extra


def random_case(n_levels, n=80, seed=0):
    """Random inputs for T = len(n_levels) terms: levels, the stacked records-per-level lists,
    positive prior precisions, effects, residuals and weights with zeros and fractions."""
    rng = np.random.default_rng(seed)
    levels = np.stack([rng.integers(0, m, n) for m in n_levels]).astype(np.int64)
    level_offsets = np.concatenate([[0], np.cumsum(n_levels)[:-1]]).astype(np.int64)
    ptr, idx = [0], []
    for t, m in enumerate(n_levels):
        for level in range(m):
            members = np.flatnonzero(levels[t] == level)
            idx.extend(members)
            ptr.append(len(idx))
    total = sum(n_levels)
    weights = rng.choice([0.0, 1.0, 0.5], size=n, p=[0.2, 0.6, 0.2])
    return (
        levels,
        np.array(ptr, dtype=np.int64),
        np.array(idx, dtype=np.int64),
        level_offsets,
        rng.uniform(0.2, 3.0, total),
        rng.normal(size=total),
        rng.normal(size=total),
        rng.normal(size=n),
        weights,
        0.7,
    )


@pytest.mark.parametrize("n_levels", [(7,), (30,), (7, 5), (12, 4, 9)], ids=["T1-large-levels", "T1", "T2", "T3"])
def test_integrated_effects_equal_the_per_record_solve(n_levels):
    case = random_case(n_levels, seed=len(n_levels))
    shift, extra = np.zeros(case[0].shape[1]), np.zeros(case[0].shape[1])
    integrate_own_effects(*case, shift, extra)
    want_shift, want_extra = reference_integrate_own_effects(*case)
    np.testing.assert_allclose(shift, want_shift, rtol=0, atol=1e-10)
    np.testing.assert_allclose(extra, want_extra, rtol=0, atol=1e-10)
    assert (extra[case[8] == 0.0] == 0.0).all() and (extra[case[8] != 0.0] > 0.0).all()


def test_one_term_is_the_gaussian_conditional_of_the_record_given_its_level_mates():
    r"""One term: the residuals e of level l's records are x - b_l with x = 1 b + eps (b the
    level's effect, integrated: b ~ N(m0, 1/p), m0 = -prior_shift/p; eps ~ N(0, s2 I); b_l its
    current value). Conditioning the joint normal of e (mean m0 - b_l, covariance s2 I + 11'/p)
    on the level mates gives e_r | e_{-r}, which the kernel states as N(-shift_r, s2 + extra_r)."""
    levels, rec_ptr, rec_idx, offsets, precision, prior_shift, effects, resid, weights, s2 = random_case((6,), n=40)
    shift, extra = np.zeros(40), np.zeros(40)
    integrate_own_effects(
        levels, rec_ptr, rec_idx, offsets, precision, prior_shift, effects, resid, weights, s2, shift, extra
    )
    for level in range(6):
        members = [r for r in np.flatnonzero(levels[0] == level) if weights[r] != 0.0]
        prior_mean = -prior_shift[level] / precision[level]
        y = resid[members]
        mean = np.full(len(members), prior_mean - effects[level])
        cov = s2 * np.eye(len(members)) + 1.0 / precision[level]
        for i, r in enumerate(members):
            rest = [j for j in range(len(members)) if j != i]
            gain = np.linalg.solve(cov[np.ix_(rest, rest)], cov[rest, i])
            cond_mean = mean[i] + gain @ (y[rest] - mean[rest])
            cond_var = cov[i, i] - cov[i, rest] @ gain
            # The kernel's predictive for e_r: N(-shift_r, s2 + extra_r).
            assert -shift[r] == pytest.approx(cond_mean, abs=1e-10)
            assert s2 + extra[r] == pytest.approx(cond_var, abs=1e-10)


@pytest.mark.parametrize("n_levels", [(7, 5), (12, 4, 9)], ids=["T2", "T3"])
def test_counts_computed_once_give_the_per_record_solve(n_levels):
    """The model's path: the design's shared-level counts computed once, then per-level sums."""
    from bayesgen.kernels.pointwise import integrate_with_counts, shared_level_counts

    levels, rec_ptr, rec_idx, level_offsets, precision, prior_shift, effects, resid, weights, sigma2_e = random_case(
        n_levels, seed=len(n_levels) + 10
    )
    counts = shared_level_counts(levels, rec_ptr, rec_idx, level_offsets, weights)
    n = levels.shape[1]
    for r in range(n):  # counts[r, a, a]: the other observed records with r's level in term a
        for a in range(len(n_levels)):
            mates = (levels[a] == levels[a, r]) & (weights != 0.0)
            mates[r] = False
            assert counts[r, a, a] == (mates.sum() if weights[r] != 0.0 else 0.0)
    shift, extra = np.zeros(n), np.zeros(n)
    integrate_with_counts(
        levels, level_offsets, counts, precision, prior_shift, effects, resid, weights, sigma2_e, shift, extra
    )
    want_shift, want_extra = reference_integrate_own_effects(
        levels, rec_ptr, rec_idx, level_offsets, precision, prior_shift, effects, resid, weights, sigma2_e
    )
    np.testing.assert_allclose(shift, want_shift, rtol=0, atol=1e-10)
    np.testing.assert_allclose(extra, want_extra, rtol=0, atol=1e-10)
