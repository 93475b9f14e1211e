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
