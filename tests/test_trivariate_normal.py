"""The trivariate normal rectangle (``bayesgen.likelihoods.trivariate_normal``) against quadrature."""

import numpy as np
import pytest
from scipy import integrate
from scipy.special import log_ndtr

from bayesgen.likelihoods.bivariate_normal import log_bivariate_normal_cdf, log_bivariate_normal_rectangle
from bayesgen.likelihoods.trivariate_normal import log_trivariate_normal_rectangle, trivariate_normal_orthant


def quadrature_log_rectangle(lower, upper, corr):
    r"""log P(a < X <= b) as :math:`\int_{a_1}^{b_1}\varphi(x)P_2(x)dx` by adaptive quadrature, with
    :math:`P_2(x)` the rectangle of (X2, X3) given X1 = x (tested against its own quadrature in
    ``test_mixed_families``), the integrand scaled by its largest value on a grid."""
    r = np.asarray(corr, dtype=float)
    s2, s3 = np.sqrt(1.0 - r[0, 1] ** 2), np.sqrt(1.0 - r[0, 2] ** 2)
    rho = (r[1, 2] - r[0, 1] * r[0, 2]) / (s2 * s3)

    def log_integrand(x):
        x = np.atleast_1d(x)
        inner = log_bivariate_normal_rectangle(
            (lower[1] - r[0, 1] * x) / s2,
            (upper[1] - r[0, 1] * x) / s2,
            (lower[2] - r[0, 2] * x) / s3,
            (upper[2] - r[0, 2] * x) / s3,
            rho,
        )
        return -0.5 * x * x - 0.5 * np.log(2.0 * np.pi) + inner

    a, b = max(lower[0], -45.0), min(upper[0], 45.0)
    grid = np.linspace(a, b, 1001)
    values = log_integrand(grid)
    top, peak = values.max(), grid[np.argmax(values)]
    cuts = sorted({a, b, *[p for p in (peak - 1.0, peak, peak + 1.0) if a < p < b]})
    total = sum(
        integrate.quad(lambda x: np.exp(log_integrand(x)[0] - top), lo, hi, epsabs=0.0, epsrel=1e-13, limit=500)[0]
        for lo, hi in zip(cuts[:-1], cuts[1:])
    )
    return top + np.log(total)


CORRELATIONS = [
    [[1.0, 0.5, 0.3], [0.5, 1.0, 0.4], [0.3, 0.4, 1.0]],
    [[1.0, -0.7, 0.2], [-0.7, 1.0, -0.5], [0.2, -0.5, 1.0]],
    [[1.0, 0.9, 0.85], [0.9, 1.0, 0.8], [0.85, 0.8, 1.0]],
    [[1.0, 0.4, -0.75], [0.4, 1.0, -0.87], [-0.75, -0.87, 1.0]],
]
INF = np.inf
BOUNDS = [
    ([-INF, -INF, -INF], [0.3, -0.2, 0.5]),  # an orthant
    ([0.1, -INF, -0.4], [INF, 0.6, INF]),  # three binary categories (half-lines)
    ([-0.5, 0.2, -1.0], [0.7, 1.1, 0.4]),  # three middle categories
    ([1.0, -INF, -0.3], [1.4, -0.9, 0.9]),
    ([-INF, -INF, -2.3], [1.9, -4.6, 0.0]),  # far in the tail: the log-scale integral
    ([3.0, 2.5, -INF], [INF, INF, -3.0]),
    ([0.1, 0.2, 0.3], [0.1001, 0.5, 0.9]),  # a thin slice
]


#: Every correlation with the moderate rectangles; the far tails (whose reference quadrature is
#: slow) with two correlations each.
CASES = [(*bounds, corr) for bounds in BOUNDS[:4] + BOUNDS[6:] for corr in CORRELATIONS]
CASES += [(*BOUNDS[4], CORRELATIONS[0]), (*BOUNDS[4], CORRELATIONS[3]), (*BOUNDS[5], CORRELATIONS[1])]
CASES += [(*BOUNDS[5], CORRELATIONS[2])]


@pytest.mark.parametrize("lower, upper, corr", CASES)
def test_rectangle_against_quadrature(lower, upper, corr):
    value = log_trivariate_normal_rectangle(np.array([lower]), np.array([upper]), np.array(corr))[0]
    expected = quadrature_log_rectangle(np.array(lower, dtype=float), np.array(upper, dtype=float), corr)
    # the Plackett path to ~1e-13; the tail integral to ~1e-10 of the log
    np.testing.assert_allclose(value, expected, rtol=1e-8, atol=1e-10)


def test_orthant_reduces_to_the_margins_when_a_trait_is_uncorrelated():
    """r13 = r23 = 0: Phi3(h; R) = Phi2(h1, h2; r12) Phi(h3), to rounding."""
    corr = np.array([[1.0, 0.6, 0.0], [0.6, 1.0, 0.0], [0.0, 0.0, 1.0]])
    h = np.array([[0.3, -0.8, 1.1], [-1.5, 0.4, -0.2], [2.0, 2.0, -2.5]])
    expected = np.exp(log_bivariate_normal_cdf(h[:, 0], h[:, 1], 0.6) + log_ndtr(h[:, 2]))
    np.testing.assert_allclose(trivariate_normal_orthant(h, corr), expected, rtol=1e-13)


def test_orthant_of_zeros_is_the_closed_form():
    """Phi3(0; R) = 1/8 + (asin r12 + asin r13 + asin r23) / (4 pi)."""
    for corr in CORRELATIONS:
        r = np.array(corr)
        expected = 0.125 + (np.arcsin(r[0, 1]) + np.arcsin(r[0, 2]) + np.arcsin(r[1, 2])) / (4.0 * np.pi)
        np.testing.assert_allclose(trivariate_normal_orthant(np.zeros((1, 3)), r), [expected], rtol=1e-13)


def test_many_records_at_once_equal_one_by_one():
    rng = np.random.default_rng(4)
    corr = np.array(CORRELATIONS[1])
    lower = np.where(rng.random((40, 3)) < 0.4, -INF, rng.normal(-0.5, 1.0, (40, 3)))
    upper = np.where(rng.random((40, 3)) < 0.4, INF, lower + rng.uniform(0.2, 2.0, (40, 3)))
    upper = np.where(np.isinf(lower) & np.isinf(upper), 0.3, upper)
    together = log_trivariate_normal_rectangle(lower, upper, corr)
    alone = [log_trivariate_normal_rectangle(lower[i : i + 1], upper[i : i + 1], corr)[0] for i in range(40)]
    np.testing.assert_allclose(together, alone, rtol=1e-14)  # BLAS may sum the nodes in another order
    # the eight categories of three binary traits add up to 1
    cut = np.array([0.2, -0.4, 0.7])
    total = 0.0
    for corner in range(8):
        above = np.array([(corner >> j) & 1 for j in range(3)], dtype=bool)
        lo, hi = np.where(above, cut, -INF), np.where(above, INF, cut)
        total += np.exp(log_trivariate_normal_rectangle(lo[None], hi[None], corr)[0])
    np.testing.assert_allclose(total, 1.0, rtol=1e-13)
