r"""The restricted likelihood of the covariances and its gradient, from the mixed-model equations.

Shared by the collapsed block (``bayesgen.sampler.collapsed``: the marginal posterior of the
covariances) and REML (``bayesgen.classical.reml``: its maximum). With
:math:`D = -2\log p(y \mid R, \Sigma)` up to a constant (``bayesgen.sampler.mme``),

.. math:: D = \sum_p n_p\log|R_{o_po_p}| + \sum_k L_k\log|\Sigma_k| + \log|C|
          + \sum_p \mathrm{tr}(Q_pY_p'Y_p) - r'C^{-1}r,

and, with :math:`W_k = \Sigma_k^{-1}` and :math:`G_k, G_p` the derivatives of the last three
terms in the entries of :math:`\Sigma_k^{-1}` and :math:`Q_p` (``coefficient_gradients``; they
need :math:`C^{-1}` on C's pattern only, Takahashi's selected inverse),

.. math:: \frac{\partial D}{\partial\Sigma_k} = -W_kG_kW_k + L_kW_k,\qquad
          \frac{\partial D}{\partial R} = \sum_p \big(-Q_pG_pQ_p + n_pQ_p\big)

(matrix derivatives: :math:`dD = \mathrm{tr}(\frac{\partial D}{\partial\Sigma}\,d\Sigma)`).
"""

from __future__ import annotations

import numpy as np

from .mme import precision_of, scalar_precision


class RestrictedLikelihood:
    """D and its pieces at one set of covariances (``evaluate``)."""

    __slots__ = (
        "minus_two_loglik",
        "precisions",
        "inverses",
        "rhs",
        "solution",
        "per_pattern",
        "per_term",
        "d_sigma",
        "d_residual",
    )


def evaluate(
    mme, factor, cross, covariances: dict, residual: np.ndarray, with_gradient: bool = False, inverse_entries=None
) -> RestrictedLikelihood | None:
    r"""D (module docstring) at the covariances ``{k: Sigma_k}`` (every k of ``mme.with_prior``) and R.

    ``factor``: a ``SparseCholesky`` on ``mme.pattern``, factorised here (raises
    ``NotPositiveDefiniteError`` when C does not factor). ``cross``: ``mme.cross_products`` of
    the response. Returns None when a covariance is not positive definite. With
    ``with_gradient``, also the coefficient derivatives and :math:`\partial D/\partial\Sigma_k`,
    :math:`\partial D/\partial R`; ``inverse_entries`` (a function of the factor returning C's
    inverse on its pattern) replaces ``factor.selected_inverse`` there (ML uses
    :math:`C^{-1}` with its fixed-effect part removed).
    """
    out = RestrictedLikelihood()
    try:
        out.precisions = mme.pattern_precisions(residual)
        log_dets, out.inverses = 0.0, {}
        for k in mme.with_prior:
            value = covariances[k]
            if value.shape == (1, 1):  # one variance: the same arithmetic in scalars
                precision, log_det = scalar_precision(float(value[0, 0]))
                log_dets += mme.terms[k].n_levels * log_det
                out.inverses[k] = np.array([[precision]])
                continue
            chol = np.linalg.cholesky(value)
            log_dets += mme.terms[k].n_levels * 2.0 * float(np.log(np.diag(chol)).sum())
            out.inverses[k] = precision_of(value)
    except np.linalg.LinAlgError:
        return None
    values = mme.values(out.precisions, out.inverses)
    if not np.all(np.isfinite(values)):
        return None
    factor.factorize(values, check=False)  # finite (above) and symmetric by the assembly
    out.rhs = mme.rhs(cross, out.precisions)
    half = factor.solve_l(out.rhs)
    out.minus_two_loglik = (
        mme.residual_log_determinant(out.precisions)
        + log_dets
        + factor.logdet()
        + mme.response_quadratic(cross, out.precisions)
        - half @ half
    )
    if not with_gradient:
        return out
    out.solution = factor.solve(out.rhs)
    entries = factor.selected_inverse() if inverse_entries is None else inverse_entries(factor)
    out.per_pattern, out.per_term = mme.coefficient_gradients(entries, out.solution, cross)
    out.d_sigma = {k: -w @ out.per_term[k] @ w + mme.terms[k].n_levels * w for k, w in out.inverses.items()}
    out.d_residual = sum(
        -q @ g @ q + p.rows.size * q for (q, _), g, p in zip(out.precisions, out.per_pattern, mme.patterns)
    )
    return out
