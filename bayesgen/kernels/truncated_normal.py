r"""Truncated normal draws by exact rejection (Robert 1995), one record at a time in numba.

:math:`z \sim N(0, 1)` truncated to (a, b), a < b (±inf allowed), is drawn by one of three
rejection samplers, each exact, chosen by where the interval lies (intervals below 0 are mirrored,
so that b > 0):

* **a ≤ 0 < b** (the interval holds the mode): a uniform proposal on (a, b) accepted with
  probability :math:`e^{-z^2/2}` when :math:`b - a < \sqrt{2\pi}`, else N(0, 1) proposals until one
  falls inside (acceptance :math:`\Phi(b) - \Phi(a)` > 0.5 there, since a ≤ 0 and b - a ≥ 2.5).
* **0 < a**, upper tail: the translated exponential proposal :math:`z = a + E/\lambda`,
  :math:`\lambda = (a + \sqrt{a^2 + 4})/2`, accepted with probability :math:`e^{-(z - \lambda)^2/2}`
  (and rejected beyond b); acceptance at least 0.76 for every a, and accurate 30 standard
  deviations out, where inverting the CDF loses all digits.
* **0 < a < b** with b close to a (Robert's bound below): a uniform proposal on (a, b) accepted
  with probability :math:`e^{(a^2 - z^2)/2}`.

The number of uniforms used varies with the draws, but they come from the chain's generator in a
fixed order: the same seed gives the same draws.
"""

from __future__ import annotations

import math

import numpy as np

from .._numba import kernel

#: sqrt(2 pi): below this width a uniform proposal beats normal ones on an interval holding 0.
UNIFORM_WIDTH = 2.5066282746310002


@kernel
def truncated_standard_normal_one(rng, a, b):
    """One draw of N(0, 1) truncated to (a, b), a < b (module docstring)."""
    mirrored = False
    if b <= 0.0:  # the interval lies below 0: draw on (-b, -a) and mirror
        a, b = -b, -a
        mirrored = True
    if a <= 0.0:
        if b - a < UNIFORM_WIDTH:
            while True:
                z = a + (b - a) * rng.random()
                if rng.random() <= np.exp(-0.5 * z * z):
                    break
        else:
            while True:
                z = rng.standard_normal()
                if a < z < b:
                    break
    else:
        # Robert (1995): the uniform proposal accepts more often than the exponential one when
        # b - a < 2 sqrt(e) / (a + sqrt(a^2 + 4)) exp((a^2 - a sqrt(a^2 + 4)) / 4)
        root = np.sqrt(a * a + 4.0)
        bound = a + 2.0 / (a + root) * np.exp(0.25 * (a * a - a * root) + 0.5)
        if b <= bound:
            while True:
                z = a + (b - a) * rng.random()
                if rng.random() <= np.exp(0.5 * (a * a - z * z)):
                    break
        else:
            rate = 0.5 * (a + root)
            while True:
                z = a + rng.standard_exponential() / rate
                if z < b and rng.random() <= np.exp(-0.5 * (z - rate) * (z - rate)):
                    break
    return -z if mirrored else z


@kernel
def draw_truncated_normals(rng, mean, sd, lower, upper, out):
    r"""``out[i]`` ~ :math:`N(\text{mean}_i, \text{sd}_i^2)` truncated to (lower_i, upper_i), in record order."""
    for i in range(mean.size):
        a = (lower[i] - mean[i]) / sd[i]
        b = (upper[i] - mean[i]) / sd[i]
        out[i] = mean[i] + sd[i] * truncated_standard_normal_one(rng, a, b)


#: sqrt(2).
SQRT2 = 1.4142135623730951
#: log(sqrt(2 pi)).
LOG_SQRT_2PI = 0.9189385332046728
#: Below this, 0.5 erfc(-x / sqrt 2) nears the smallest double: the asymptotic series takes over.
LOG_NDTR_ASYMPTOTIC = -37.0


@kernel
def log_ndtr_one(x):
    r""":math:`\log\Phi(x)`: :math:`\log(\tfrac12\mathrm{erfc}(-x/\sqrt2))` below 0 (erfc keeps its relative
    accuracy far into the tail), :math:`\mathrm{log1p}(-\tfrac12\mathrm{erfc}(x/\sqrt2))` above, and for
    x < -37 the asymptotic series :math:`\log\varphi(x) - \log(-x) + \log(1 - x^{-2} + 3x^{-4} - 15x^{-6} + 105x^{-8})`
    (relative error below 1e-13 there)."""
    if x >= 0.0:
        return np.log1p(-0.5 * math.erfc(x / SQRT2))
    if x > LOG_NDTR_ASYMPTOTIC:
        return np.log(0.5 * math.erfc(-x / SQRT2))
    if x == -np.inf:
        return -np.inf
    w = 1.0 / (x * x)
    series = 1.0 - w * (1.0 - w * (3.0 - w * (15.0 - 105.0 * w)))
    return -0.5 * x * x - LOG_SQRT_2PI - np.log(-x) + np.log(series)


@kernel
def log_interval_probability_one(a, b):
    r""":math:`\log(\Phi(b) - \Phi(a))`, a < b (±inf allowed), on the side of the interval nearer the
    lower tail (mirrored to (-b, -a) when a + b > 0), where :math:`\log\Phi(b)` is accurate and
    :math:`\Phi(a)/\Phi(b) < 1`."""
    if a + b > 0.0:  # False for (-inf, inf) (NaN): not mirrored
        a, b = -b, -a
    log_b = log_ndtr_one(b)
    return log_b + np.log1p(-np.exp(log_ndtr_one(a) - log_b))


@kernel
def log_interval_probabilities(lower, upper, out):
    """``out[i]`` = log(Phi(upper_i) - Phi(lower_i)) for standardised bounds."""
    for i in range(lower.size):
        out[i] = log_interval_probability_one(lower[i], upper[i])


@kernel
def sum_log_interval_probabilities(lower, upper, mean):
    r""":math:`\sum_i \log(\Phi(\text{upper}_i - \text{mean}_i) - \Phi(\text{lower}_i - \text{mean}_i))`."""
    total = 0.0
    for i in range(lower.size):
        total += log_interval_probability_one(lower[i] - mean[i], upper[i] - mean[i])
    return total
