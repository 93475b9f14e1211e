r"""Kernels of the row-partitioned exact block sampler (``bayesgen.sampler.row_partitioned``).

The records (rows) are split into W shards; shard w holds the int8 codes of its records for
every marker, ``codes_w`` (markers x records of w), its phenotypes and its part of the residual
:math:`e_w`. The markers are cut into consecutive blocks b of at most B. Per block:

* each shard computes :math:`r_{b,w} = X_{b,w}' e_w` (:func:`shard_block_dot`),
* the leader sums them over the shards, :math:`r_b = \sum_w r_{b,w} = X_b' e`, and draws the
  block's markers one by one from their full conditionals on the small system
  (:func:`draw_block_gram_space`: after marker j moves by :math:`\delta_j`,
  :math:`r_b \mathrel{-}= G_b[:, j]\,\delta_j` with :math:`G_b = \sum_w X_{b,w}'X_{b,w}`),
* each shard updates its residual, :math:`e_w \mathrel{-}= X_{b,w}\,\delta_b`
  (:func:`shard_block_update`).

Genotypes are centred with the centres of the whole data (``lookup[j, c] = c - mu_j``), so the
shards' sums add up to the full :math:`X_b'e` and :math:`X_b'X_b`. The per-shard passes reuse the
dense loops of the fast-block sweep (``bayesgen.kernels.fast_blocks``: eight markers per pass
over the residual); the Gram blocks are ``block_cross_products`` of each shard, summed.
No missing genotypes (code 3): the prototype refuses them before sampling.
"""

import numpy as np

from .._numba import kernel
from .fast_blocks import _sum, block_code_dots, block_code_subtract


@kernel
def shard_block_dot(codes, s, m, lookup, resid, out):
    r"""``out[a] = x_{s+a}' e`` over this shard's records, for a < m (centred genotypes).

    :math:`x_j'e = \sum_i c_{ij} e_i - \mu_j \sum_i e_i`: the raw codes are read eight markers
    per pass over ``resid`` (SIMD sums), the centring is one product per marker. O(m n_w)."""
    total = _sum(resid)
    block_code_dots(codes, s, m, resid, out)
    for a in range(m):
        out[a] += lookup[s + a, 0] * total  # lookup[j, 0] = -mu_j


@kernel
def shard_block_update(codes, s, m, lookup, delta, ones, resid):
    r"""``resid -= X_b delta`` on this shard's records for the block ``[s, s + m)``, in place.

    :math:`e_i \mathrel{-}= \sum_a \delta_a c_{i,s+a} - \sum_a \delta_a \mu_{s+a}`, eight markers
    per pass over the residual (``ones``: a vector of 1.0 the size of ``resid``, the weights of
    the shared fast-block loop). O(m n_w)."""
    block_code_subtract(codes, s, s, m, lookup, delta, ones, resid)


@kernel
def draw_block_gram_space(rng, alpha, s, m, r, gram, sigma2_alpha, log_prior_odds, spike, sigma2_e, delta):
    r"""Draw the markers ``[s, s + m)`` one by one from their full conditionals, in Gram space.

    ``r[a]`` is :math:`x_j'e` (j = s + a) with the current :math:`\alpha_j` in the fit,
    ``gram[a, :m]`` row a of :math:`G_b = X_b'X_b`, so :math:`x_j'x_j` = ``gram[a, a]``. With
    :math:`\rho_j = r_j + x_j'x_j\alpha_j` and :math:`l_j = x_j'x_j + \sigma^2_e/\sigma^2_\alpha`:

    * BRR (``spike`` False): :math:`\alpha_j \mid \cdot \sim N(\rho_j / l_j, \sigma^2_e / l_j)`;
    * BayesC (``spike`` True, :math:`\alpha_j \sim (1-\pi)\delta_0 + \pi N(0, \sigma^2_\alpha)`):
      :math:`\alpha_j \ne 0` with probability :math:`1/(1 + e^{-\lambda_j})`,
      :math:`\lambda_j = \log\frac{\pi}{1-\pi} + \frac12\log\frac{\sigma^2_e}{l_j\sigma^2_\alpha}
      + \frac{\rho_j^2}{2\sigma^2_e l_j}` (``log_prior_odds`` the first term; y with
      :math:`\alpha_j` integrated out against :math:`\alpha_j = 0`), then
      :math:`N(\rho_j/l_j, \sigma^2_e/l_j)` as for BRR; else 0.

    After marker j moves by :math:`\delta_j`, :math:`r \mathrel{-}= G_b[:, j]\,\delta_j` (O(m)),
    which is :math:`X_b'e` after the residual update :math:`e \mathrel{-}= x_j\delta_j`, so
    these are the full conditionals of the plain marker-by-marker sweep. Modifies ``alpha``,
    ``r``; writes the block's total changes into ``delta[:m]``. BayesC uses one uniform per
    marker, and a normal when the marker is in the slab; BRR one normal per marker.
    """
    for a in range(m):
        delta[a] = 0.0
    for a in range(m):
        j = s + a
        xx = gram[a, a]
        lhs = xx + sigma2_e / sigma2_alpha
        rho = r[a] + xx * alpha[j]
        if spike:
            log_odds = (
                log_prior_odds + 0.5 * np.log(sigma2_e / (lhs * sigma2_alpha)) + rho * rho / (2.0 * sigma2_e * lhs)
            )
            # 1 / (1 + exp(-x)) without overflow for either sign of x
            if log_odds >= 0.0:
                p_slab = 1.0 / (1.0 + np.exp(-log_odds))
            else:
                z = np.exp(log_odds)
                p_slab = z / (1.0 + z)
            if rng.random() < p_slab:
                new = rho / lhs + np.sqrt(sigma2_e / lhs) * rng.standard_normal()
            else:
                new = 0.0
        else:
            new = rho / lhs + np.sqrt(sigma2_e / lhs) * rng.standard_normal()
        d = new - alpha[j]
        if d != 0.0:
            for b in range(m):
                r[b] -= gram[a, b] * d
            delta[a] = d
        alpha[j] = new
