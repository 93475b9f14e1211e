"""Spike-and-slab marker sweep: draw (delta_j, alpha_j) jointly, skipping excluded markers' updates."""

import numpy as np

from .._numba import kernel
from ..data._genotype_kernels import marker_row, row_scratch
from .markers import (  # noqa: F401  (marker_code_stats is imported from here by the priors)
    _collect_unobserved,
    _hold_unobserved,
    _max_missing,
    _observed_xe,
    _release_unobserved,
    _residual_total,
    _subtract_code_change,
    marker_code_stats,
    unobserved_records,
)


@kernel
def sweep_markers_spike_slab(
    rng,
    alpha,
    var_alpha,
    log_prior_odds,
    codes,
    lookup,
    xx,
    code_stats,
    resid,
    weights,
    genetic_values,
    sigma2_e,
    reverse=False,
    reference=None,
):
    r"""Draw every (delta_j, alpha_j) from its joint full conditional; return the number included.

    Prior: :math:`\alpha_j = \delta_j \beta_j`, :math:`\delta_j \sim \text{Bernoulli}(\pi)`,
    :math:`\beta_j \sim N(0, \sigma^2_j)` (``var_alpha``; common for BayesC, per marker for
    BayesB); ``log_prior_odds`` is :math:`\log(\pi/(1-\pi))` (``inf`` for :math:`\pi = 1`).
    With :math:`r_j = x_j'W(e + x_j\alpha_j)` (the residual without marker j) and
    :math:`C_j = x_j'Wx_j + \sigma^2_e/\sigma^2_j`, integrating :math:`\beta_j` out gives

    .. math:: \log\frac{P(\delta_j=1\mid\cdot)}{P(\delta_j=0\mid\cdot)} = \log\frac{\pi}{1-\pi}
              + \tfrac12\log\frac{\sigma^2_e}{C_j\sigma^2_j} + \frac{r_j^2}{2\sigma^2_e C_j},

    then :math:`\alpha_j \mid \delta_j = 1 \sim N(r_j/C_j, \sigma^2_e/C_j)` and
    :math:`\alpha_j = 0` otherwise. The inclusion probability is the logistic function of the
    log odds, evaluated on the side that cannot overflow. Random numbers per marker: one
    uniform (``rng.random()``), then one standard normal only if the marker is included.

    The residual (and ``genetic_values``) change only when :math:`\alpha_j` changes, so a
    marker excluded before and after costs one pass (for :math:`r_j`), not two.
    ``codes``/``lookup``/``xx``/``weights`` as in :func:`sweep_markers_gaussian`; for 0/1
    weights the passes read the raw codes as that sweep does
    (:math:`x_j'We = \sum c_{ij}e_i - \mu_j\sum e_i` over observed genotypes of phenotyped
    records, with the genetic values updated once per sweep from the change of the residual);
    other weights take an element-by-element loop. ``code_stats`` (from
    :func:`bayesgen.kernels.markers.marker_code_stats`) holds each marker's sum of codes and
    list of missing genotypes. During a 0/1-weight sweep the residual of unphenotyped records
    is held at 0 (the change each update makes there is collected and added back at the
    end), so the SIMD sums run over phenotyped records only and a marker that stays excluded
    costs exactly one pass over its codes (a SIMD dot product) plus its list of missing
    genotypes.

    ``reverse``: visit the markers from the last to the first. ``reference``: None, or
    ``[log-odds' (log pi'/(1 - pi')), variance ratio v, accumulator]`` of a second prior (pi', and
    slab variances :math:`v\sigma^2_j`): the sweep then adds to ``reference[2]``
    :math:`\sum_j \log m_j(\pi, \sigma^2) - \log m_j(\pi', v\sigma^2)`, with
    :math:`m_j = (1 - \pi) + \pi\,\mathrm{BF}_j(\sigma^2_j)` the prior predictive of marker j's
    data under the spike and slab relative to the spike alone (BF_j: the slab's Bayes factor),
    each evaluated at the state the marker is drawn in. That is the Hastings ratio of
    ``BayesCPrior``'s (pi, sigma2_alpha) move (:meth:`bayesgen.BayesCPrior.ridge_move`).
    """
    unobserved = unobserved_records(weights)
    if unobserved.size > 0 and unobserved[0] < 0:  # weights other than 0/1
        return _spike_slab_weighted(
            rng,
            alpha,
            var_alpha,
            log_prior_odds,
            codes,
            lookup,
            xx,
            resid,
            weights,
            genetic_values,
            sigma2_e,
            reverse,
            reference,
        )
    start = resid.copy()
    n_included = _spike_slab_binary(
        rng,
        alpha,
        var_alpha,
        log_prior_odds,
        codes,
        lookup,
        xx,
        code_stats,
        resid,
        unobserved,
        sigma2_e,
        reverse,
        reference,
    )
    for i in range(resid.size):
        genetic_values[i] += start[i] - resid[i]
    return n_included


@kernel
def _inclusion_log_odds(rhs, lhs, var_alpha_j, log_prior_odds, sigma2_e):
    """log P(delta_j = 1 | .) / P(delta_j = 0 | .): the prior log-odds plus the slab's log Bayes factor."""
    return log_prior_odds + 0.5 * np.log(sigma2_e / (lhs * var_alpha_j)) + 0.5 * rhs * rhs / (sigma2_e * lhs)


@kernel
def _softplus(x):
    """log(1 + e^x) without overflow."""
    return x + np.log1p(np.exp(-x)) if x > 0.0 else np.log1p(np.exp(x))


@kernel
def _log_mixture(rhs, xx_j, var_alpha_j, log_prior_odds, sigma2_e):
    r""":math:`\log((1 - \pi) + \pi\,\mathrm{BF}_j) = \mathrm{softplus}(\text{log-odds}) - \mathrm{softplus}(\mathrm{logit}\,\pi)`."""
    lhs = xx_j + sigma2_e / var_alpha_j
    return _softplus(_inclusion_log_odds(rhs, lhs, var_alpha_j, log_prior_odds, sigma2_e)) - _softplus(log_prior_odds)


@kernel
def _add_reference(reference, rhs, xx_j, var_alpha_j, log_prior_odds, sigma2_e):
    """``reference[2] += log m_j(pi, sigma2_j) - log m_j(pi', v sigma2_j)`` (see ``sweep_markers_spike_slab``)."""
    reference[2] += _log_mixture(rhs, xx_j, var_alpha_j, log_prior_odds, sigma2_e) - _log_mixture(
        rhs, xx_j, reference[1] * var_alpha_j, reference[0], sigma2_e
    )


@kernel
def _draw_inclusion(rng, rhs, lhs, var_alpha_j, log_prior_odds, sigma2_e):
    """One (delta_j, alpha_j) draw given r_j (``rhs``) and C_j (``lhs``); returns the new alpha_j."""
    log_odds = _inclusion_log_odds(rhs, lhs, var_alpha_j, log_prior_odds, sigma2_e)
    if log_odds >= 0.0:
        p_in = 1.0 / (1.0 + np.exp(-log_odds))
    else:
        odds = np.exp(log_odds)
        p_in = odds / (1.0 + odds)
    if rng.random() < p_in:
        return rhs / lhs + np.sqrt(sigma2_e / lhs) * rng.standard_normal()
    return 0.0


@kernel
def _spike_slab_binary(
    rng,
    alpha,
    var_alpha,
    log_prior_odds,
    codes,
    lookup,
    xx,
    code_stats,
    resid,
    unobserved,
    sigma2_e,
    reverse,
    reference,
):
    """The sweep of :func:`sweep_markers_spike_slab` for 0/1 weights (``unobserved``: records with 0)."""
    n_markers = codes.shape[0]
    saved = np.empty(_max_missing(code_stats, n_markers))
    n_included = 0
    held = _hold_unobserved(resid, unobserved)  # e = 0 there during the sweep: no per-marker correction
    drift = np.zeros(unobserved.size)
    none = unobserved[:0]
    scratch = row_scratch(codes, resid.size)
    sum_e = _residual_total(resid)  # sum_i e_i over the phenotyped records, kept up to date
    for step in range(n_markers):
        j = n_markers - 1 - step if reverse else step
        row = marker_row(codes, j, scratch)
        neg_centre = lookup[j, 0]  # -mu_j
        rhs = _observed_xe(row, resid, code_stats, n_markers, j, none, sum_e, neg_centre) + xx[j] * alpha[j]
        if reference is not None:
            _add_reference(reference, rhs, xx[j], var_alpha[j], log_prior_odds, sigma2_e)
        new = _draw_inclusion(rng, rhs, xx[j] + sigma2_e / var_alpha[j], var_alpha[j], log_prior_odds, sigma2_e)
        if new != 0.0:
            n_included += 1
        delta = new - alpha[j]
        if delta != 0.0:
            removed = _subtract_code_change(row, resid, delta, neg_centre, code_stats, n_markers, j, saved)
            sum_e -= removed + _collect_unobserved(resid, unobserved, drift)
        alpha[j] = new
    _release_unobserved(resid, unobserved, held, drift)
    return n_included


@kernel
def _spike_slab_weighted(
    rng,
    alpha,
    var_alpha,
    log_prior_odds,
    codes,
    lookup,
    xx,
    resid,
    weights,
    genetic_values,
    sigma2_e,
    reverse,
    reference,
):
    """The sweep of :func:`sweep_markers_spike_slab` for any weights, element by element."""
    n_markers = codes.shape[0]
    n = resid.size
    scratch = row_scratch(codes, n)
    n_included = 0
    for step in range(n_markers):
        j = n_markers - 1 - step if reverse else step
        row = marker_row(codes, j, scratch)
        values = lookup[j]
        xe = 0.0
        for i in range(n):
            xe += weights[i] * values[row[i]] * resid[i]
        lhs = xx[j] + sigma2_e / var_alpha[j]
        rhs = xe + xx[j] * alpha[j]
        if reference is not None:
            _add_reference(reference, rhs, xx[j], var_alpha[j], log_prior_odds, sigma2_e)
        new = _draw_inclusion(rng, rhs, lhs, var_alpha[j], log_prior_odds, sigma2_e)
        if new != 0.0:
            n_included += 1
        delta = new - alpha[j]
        if delta != 0.0:
            for i in range(n):
                change = values[row[i]] * delta
                resid[i] -= change
                genetic_values[i] += change
        alpha[j] = new
    return n_included


def sweep_markers_mixture(
    rng,
    alpha,
    classes,
    log_weights,
    class_variances,
    codes,
    lookup,
    xx,
    resid,
    weights,
    genetic_values,
    sigma2_e,
    code_stats=None,
    reverse=False,
    reference=None,
):
    r"""BayesR sweep: draw each (class_j, alpha_j) jointly; ``classes`` receives the class of each marker.

    Prior: :math:`\alpha_j \sim \sum_k \pi_k N(0, v_k)` with :math:`v_0 = 0` (the spike;
    ``class_variances[0]`` must be 0) and ``log_weights[k]`` :math:`= \log\pi_k`. With
    :math:`r_j` as in :func:`sweep_markers_spike_slab` and :math:`C_k = x_j'Wx_j + \sigma^2_e/v_k`,

    .. math:: \log P(k \mid \cdot) = \log\pi_k + \tfrac12\log\frac{\sigma^2_e}{C_k v_k}
              + \frac{r_j^2}{2\sigma^2_e C_k} + \text{const} \quad (k > 0), \qquad \log\pi_0 \;(k = 0),

    normalised after subtracting the largest (no overflow); then
    :math:`\alpha_j \mid k > 0 \sim N(r_j/C_k, \sigma^2_e/C_k)`. Random numbers per marker: one
    uniform, then one normal if the class is not the spike. Residual and genetic values change
    only when alpha_j does. For 0/1 weights the passes read the raw int8 codes as
    :func:`sweep_markers_spike_slab` does (``code_stats`` from
    :func:`bayesgen.kernels.markers.marker_code_stats`; computed here when not given, which
    costs one pass over the codes); other weights go element by element through ``lookup``.

    ``reverse``: visit the markers from the last to the first. ``reference``: None, or an array of
    2K + 1 numbers, ``[log pi'_0..K-1, v'_0..K-1, accumulator]``, of a second prior (class
    proportions :math:`\pi'` and variances :math:`v'`, :math:`v'_0 = 0`): the sweep then adds to
    the accumulator :math:`\sum_j \log m_j(\pi, v) - \log m_j(\pi', v')`, with
    :math:`m_j = \sum_k \pi_k \mathrm{BF}_{jk}` (:math:`\mathrm{BF}_{j0} = 1`) the prior predictive
    of marker j's data relative to the spike alone, each evaluated at the state the marker is
    drawn in: the Hastings ratio of ``BayesRPrior``'s proportion move
    (:meth:`bayesgen.BayesRPrior.proportion_move`).
    """
    if code_stats is None:
        code_stats = marker_code_stats(codes, resid.size)
    _sweep_markers_mixture(
        rng,
        alpha,
        classes,
        log_weights,
        class_variances,
        codes,
        lookup,
        xx,
        code_stats,
        resid,
        weights,
        genetic_values,
        sigma2_e,
        reverse,
        reference,
    )


@kernel
def _sweep_markers_mixture(
    rng,
    alpha,
    classes,
    log_weights,
    class_variances,
    codes,
    lookup,
    xx,
    code_stats,
    resid,
    weights,
    genetic_values,
    sigma2_e,
    reverse,
    reference,
):
    """:func:`sweep_markers_mixture` once ``code_stats`` is known: picks the 0/1 or the general path."""
    unobserved = unobserved_records(weights)
    if unobserved.size > 0 and unobserved[0] < 0:  # weights other than 0/1
        _mixture_weighted(
            rng,
            alpha,
            classes,
            log_weights,
            class_variances,
            codes,
            lookup,
            xx,
            resid,
            weights,
            genetic_values,
            sigma2_e,
            reverse,
            reference,
        )
        return
    start = resid.copy()
    _mixture_binary(
        rng,
        alpha,
        classes,
        log_weights,
        class_variances,
        codes,
        lookup,
        xx,
        code_stats,
        resid,
        unobserved,
        sigma2_e,
        reverse,
        reference,
    )
    for i in range(resid.size):
        genetic_values[i] += start[i] - resid[i]


@kernel
def _draw_class(rng, rhs, xx_j, log_weights, class_variances, log_p, sigma2_e):
    """One (class_j, alpha_j) draw given r_j (``rhs``) and x_j'Wx_j; returns (class, new alpha_j).

    ``log_p`` is scratch space of one entry per class."""
    n_classes = log_weights.size
    top = log_weights[0]
    log_p[0] = log_weights[0]
    for k in range(1, n_classes):
        lhs = xx_j + sigma2_e / class_variances[k]
        log_p[k] = (
            log_weights[k] + 0.5 * np.log(sigma2_e / (lhs * class_variances[k])) + 0.5 * rhs * rhs / (sigma2_e * lhs)
        )
        top = max(top, log_p[k])
    total = 0.0
    for k in range(n_classes):
        log_p[k] = np.exp(log_p[k] - top)
        total += log_p[k]
    u = rng.random() * total
    chosen = n_classes - 1
    cumulative = 0.0
    for k in range(n_classes):
        cumulative += log_p[k]
        if u < cumulative:
            chosen = k
            break
    if chosen == 0:
        return chosen, 0.0
    lhs = xx_j + sigma2_e / class_variances[chosen]
    return chosen, rhs / lhs + np.sqrt(sigma2_e / lhs) * rng.standard_normal()


@kernel
def _log_class_total(rhs, xx_j, log_weights, class_variances, sigma2_e):
    r""":math:`\log m_j = \log\sum_k \pi_k \mathrm{BF}_{jk}` (:math:`\mathrm{BF}_{j0} = 1`): the log of the
    unnormalised class probabilities that :func:`_draw_class` sums, in one pass (a running log-sum-exp)."""
    top = log_weights[0]
    total = 1.0
    for k in range(1, log_weights.size):
        lhs = xx_j + sigma2_e / class_variances[k]
        term = log_weights[k] + 0.5 * np.log(sigma2_e / (lhs * class_variances[k])) + 0.5 * rhs * rhs / (sigma2_e * lhs)
        if term > top:
            total = total * np.exp(top - term) + 1.0
            top = term
        else:
            total += np.exp(term - top)
    return top + np.log(total)


@kernel
def _add_class_reference(reference, rhs, xx_j, log_weights, class_variances, sigma2_e):
    """``reference[-1] += log m_j(pi, v) - log m_j(pi', v')`` (see :func:`sweep_markers_mixture`)."""
    n_classes = log_weights.size
    reference[2 * n_classes] += _log_class_total(rhs, xx_j, log_weights, class_variances, sigma2_e) - _log_class_total(
        rhs, xx_j, reference[:n_classes], reference[n_classes : 2 * n_classes], sigma2_e
    )


@kernel
def _mixture_binary(
    rng,
    alpha,
    classes,
    log_weights,
    class_variances,
    codes,
    lookup,
    xx,
    code_stats,
    resid,
    unobserved,
    sigma2_e,
    reverse,
    reference,
):
    """The sweep of :func:`sweep_markers_mixture` for 0/1 weights (``unobserved``: records with 0)."""
    n_markers = codes.shape[0]
    saved = np.empty(_max_missing(code_stats, n_markers))
    log_p = np.empty(log_weights.size)
    held = _hold_unobserved(resid, unobserved)  # e = 0 there during the sweep: no per-marker correction
    drift = np.zeros(unobserved.size)
    none = unobserved[:0]
    scratch = row_scratch(codes, resid.size)
    sum_e = _residual_total(resid)  # sum_i e_i over the phenotyped records, kept up to date
    for step in range(n_markers):
        j = n_markers - 1 - step if reverse else step
        row = marker_row(codes, j, scratch)
        neg_centre = lookup[j, 0]  # -mu_j
        rhs = _observed_xe(row, resid, code_stats, n_markers, j, none, sum_e, neg_centre) + xx[j] * alpha[j]
        if reference is not None:
            _add_class_reference(reference, rhs, xx[j], log_weights, class_variances, sigma2_e)
        chosen, new = _draw_class(rng, rhs, xx[j], log_weights, class_variances, log_p, sigma2_e)
        classes[j] = chosen
        delta = new - alpha[j]
        if delta != 0.0:
            removed = _subtract_code_change(row, resid, delta, neg_centre, code_stats, n_markers, j, saved)
            sum_e -= removed + _collect_unobserved(resid, unobserved, drift)
        alpha[j] = new
    _release_unobserved(resid, unobserved, held, drift)


@kernel
def _mixture_weighted(
    rng,
    alpha,
    classes,
    log_weights,
    class_variances,
    codes,
    lookup,
    xx,
    resid,
    weights,
    genetic_values,
    sigma2_e,
    reverse,
    reference,
):
    """The sweep of :func:`sweep_markers_mixture` for any weights, element by element."""
    n_markers = codes.shape[0]
    n = resid.size
    scratch = row_scratch(codes, n)
    log_p = np.empty(log_weights.size)
    for step in range(n_markers):
        j = n_markers - 1 - step if reverse else step
        row = marker_row(codes, j, scratch)
        values = lookup[j]
        xe = 0.0
        for i in range(n):
            xe += weights[i] * values[row[i]] * resid[i]
        rhs = xe + xx[j] * alpha[j]
        if reference is not None:
            _add_class_reference(reference, rhs, xx[j], log_weights, class_variances, sigma2_e)
        chosen, new = _draw_class(rng, rhs, xx[j], log_weights, class_variances, log_p, sigma2_e)
        classes[j] = chosen
        delta = new - alpha[j]
        if delta != 0.0:
            for i in range(n):
                change = values[row[i]] * delta
                resid[i] -= change
                genetic_values[i] += change
        alpha[j] = new
