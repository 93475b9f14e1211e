r"""The mixed-model equations of a set of location terms, for t traits, assembled from the protocols.

With the location terms' design columns stacked as :math:`M = [Z_1 \dots Z_K]` (records x n)
and their effects as B (n x t), the working response Y (records x t) has, for a record r
whose observed traits are o (its missingness pattern p),
:math:`y_{r,o} \sim N((MB)_{r,o}, R_{oo})`; the missing traits are integrated out. With
:math:`Q_p` the t x t matrix holding :math:`R_{oo}^{-1}` at (o, o) and zeros elsewhere, the
location effects b = vec(B') (element ``column * t + trait``) have the full conditional

.. math:: b \mid \cdot \sim N(C^{-1}r,\; C^{-1}),\qquad
          C = \sum_p M_p'M_p \otimes Q_p + \mathrm{blockdiag}_k\big(P_k \otimes \Sigma_k^{-1}\big),\qquad
          r = \mathrm{vec}\Big(\sum_p Q_p Y_p'M_p\Big),

:math:`M_p, Y_p` the rows of pattern p, :math:`P_k \otimes \Sigma_k^{-1}` term k's prior
precision over (level, coefficient, trait) (nothing for a flat term). C has a fixed sparsity
pattern: it is analysed once (``SparseCholesky``) and refactorised numerically when the
covariances change. With the locations integrated out, the log density of the observed
working response given the covariances (the restricted likelihood with flat fixed effects)
is, up to a constant,

.. math:: -2\log p(y \mid R, \Sigma) = \sum_p n_p\log|R_{o_po_p}| + \sum_k L_k\log|\Sigma_k| + \log|C|
          + \sum_p \mathrm{tr}(Q_pY_p'Y_p) - r'C^{-1}r.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def _structure(matrix) -> sp.csr_matrix:
    out = sp.csr_matrix(matrix, copy=True)
    out.data = np.ones_like(out.data)
    return out


def _keys(matrix: sp.spmatrix) -> np.ndarray:
    coo = matrix.tocoo()
    return coo.row.astype(np.int64) * matrix.shape[1] + coo.col.astype(np.int64)


class MixedModelEquations:
    """The design, the pattern of C and the maps that fill in C, r and the likelihood terms."""

    def __init__(self, terms: list, patterns: list, n_traits: int):
        t = n_traits
        self.terms, self.patterns, self.n_traits = list(terms), list(patterns), t
        designs = [sp.csr_matrix(term.design()) for term in self.terms]
        sizes = [d.shape[1] for d in designs]
        self.column_offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        n_cols = int(self.column_offsets[-1])
        self.n_columns, self.n_equations = n_cols, n_cols * t
        self.design = sp.hstack(designs, format="csr")
        self.design.sort_indices()
        # Per pattern: its rows of M (and M') and M_p'M_p.
        self._pattern_designs = [self.design[p.rows] for p in self.patterns]
        self._pattern_designs_t = [d.T.tocsr() for d in self._pattern_designs]
        # Per pattern: its missing traits (zeroed in the cross products), None when it has none.
        self._pattern_missing = [
            np.setdiff1d(np.arange(t), p.observed) if p.observed.size < t else None for p in self.patterns
        ]
        grams = [(d_t @ d).tocsr() for d, d_t in zip(self._pattern_designs, self._pattern_designs_t)]
        # Prior blocks on columns: kron(P_k, ones(c, c)) at term k's offset.
        priors = []
        for k, term in enumerate(self.terms):
            precision = term.level_precision()
            if precision is None:
                continue
            c = term.n_coefficients
            block = sp.kron(sp.csr_matrix(precision), np.ones((c, c)), format="csr")
            start = int(self.column_offsets[k])
            priors.append(
                (
                    k,
                    sp.csr_matrix(
                        (block.tocoo().data, (block.tocoo().row + start, block.tocoo().col + start)),
                        shape=(n_cols, n_cols),
                    ),
                )
            )
        self.with_prior = [k for k, _ in priors]
        columns = _structure(sp.identity(n_cols, format="csr"))
        for g in grams:
            columns = columns + _structure(g)
        for _, block in priors:
            columns = columns + _structure(block)
        pattern = sp.kron(_structure(columns), np.ones((t, t)), format="csr")
        pattern.sum_duplicates()
        pattern.sort_indices()
        pattern.data[:] = 1.0
        self.pattern = pattern
        keys = _keys(pattern)
        n_eq = self.n_equations

        def positions(rows, cols):
            return np.searchsorted(keys, rows.astype(np.int64) * n_eq + cols.astype(np.int64))

        # C's values are linear in the entries of each Q_p and each Sigma_k^-1: values = A @ c with
        # c those entries and A (nnz(C) x len(c)) sparse, assembled once. Likelihood slots: pattern
        # p's Q_p[a, b] multiplies M_p'M_p at (i t + a, j t + b). Prior slots: term k's
        # Sigma_k^-1[alpha, beta] (alpha = coef * t + trait) multiplies P_k's entry (l, l') at
        # ((offset + l c + coef_alpha) t + trait_alpha, (offset + l' c + coef_beta) t + trait_beta).
        rows, slots, data = [], [], []
        # For each pattern, its observed pairs (a, b) in slot order.
        self._pattern_pairs = [[(a, b) for a in p.observed for b in p.observed] for p in self.patterns]
        n_likelihood_slots = 0
        for g, pairs in zip(grams, self._pattern_pairs):
            coo = g.tocoo()
            for a, b in pairs:
                rows.append(positions(coo.row * t + a, coo.col * t + b))
                slots.append(np.full(coo.nnz, n_likelihood_slots))
                data.append(coo.data)
                n_likelihood_slots += 1
        self._prior_slots = []
        for k in self.with_prior:
            term = self.terms[k]
            c, start = term.n_coefficients, int(self.column_offsets[k])
            coo = sp.coo_matrix(term.level_precision())
            d = c * t
            for alpha in range(d):
                for beta in range(d):
                    r = (start + coo.row * c + alpha // t) * t + alpha % t
                    col = (start + coo.col * c + beta // t) * t + beta % t
                    rows.append(positions(r, col))
                    slots.append(np.full(coo.nnz, n_likelihood_slots + len(self._prior_slots)))
                    data.append(coo.data.astype(np.float64))
                    self._prior_slots.append((k, alpha, beta))
        n_slots = n_likelihood_slots + len(self._prior_slots)
        self._assembly = sp.csr_matrix(
            (np.concatenate(data), (np.concatenate(rows), np.concatenate(slots))), shape=(self.pattern.nnz, n_slots)
        )
        self._assembly_t = self._assembly.T.tocsr()
        self._n_likelihood_slots = n_likelihood_slots
        coo = pattern.tocoo()
        self._pattern_rows, self._pattern_cols = coo.row.astype(np.int64), coo.col.astype(np.int64)

    # ------------------------------------------------------------------ what depends on the covariances
    def pattern_precisions(self, residual_covariance: np.ndarray) -> list:
        """(Q_p, log|R_oo|) per pattern: R_oo^-1 placed at (o, o) of a t x t zero matrix."""
        out = []
        for p in self.patterns:
            o = p.observed
            if o.size == 1:  # one observed trait: the same arithmetic in scalars
                k = int(o[0])
                precision, log_det = scalar_precision(float(residual_covariance[k, k]))
                q = np.zeros((self.n_traits, self.n_traits))
                q[k, k] = precision
                out.append((q, log_det))
                continue
            r_oo = residual_covariance[np.ix_(o, o)]
            chol = np.linalg.cholesky(r_oo)
            inverse = np.linalg.inv(chol)
            q = np.zeros((self.n_traits, self.n_traits))
            q[np.ix_(o, o)] = symmetric(inverse.T @ inverse)
            out.append((q, 2.0 * float(np.log(np.diag(chol)).sum())))
        return out

    def values(self, precisions: list, covariance_inverses: dict) -> np.ndarray:
        """Values of C (in ``pattern`` order) for the patterns' Q_p and {term k: Sigma_k^-1}: one sparse product."""
        coefficients = [q[a, b] for (q, _), pairs in zip(precisions, self._pattern_pairs) for a, b in pairs]
        coefficients += [covariance_inverses[k][alpha, beta] for k, alpha, beta in self._prior_slots]
        return self._assembly @ np.asarray(coefficients, dtype=np.float64)

    def coefficient_gradients(self, inverse_entries: np.ndarray, solution: np.ndarray, cross: list):
        r"""Derivatives of :math:`D = \log|C| + \sum_p\mathrm{tr}(Q_pY_p'Y_p) - r'C^{-1}r` with respect to the
        entries of each :math:`Q_p` and each :math:`\Sigma_k^{-1}`, every entry taken as free.

        ``inverse_entries``: :math:`C^{-1}` at C's pattern (``SparseCholesky.selected_inverse``);
        ``solution``: :math:`\hat b = C^{-1}r`. With C linear in those entries, :math:`C = \sum_j c_jA_j`:
        :math:`\partial\log|C|/\partial c_j = \mathrm{tr}(C^{-1}A_j)` and
        :math:`\partial(-r'C^{-1}r)/\partial c_j = \hat b'A_j\hat b` at fixed r; r and the quadratic
        term depend on :math:`Q_p` too: :math:`+(Y_p'Y_p)_{ab} - 2(Y_p'M_p\hat B)_{ab}`.
        Returns ([t x t per pattern], {term k: ct x ct}), symmetric.
        """
        through_c = self._assembly_t @ (inverse_entries + solution[self._pattern_rows] * solution[self._pattern_cols])
        b = solution.reshape(self.n_columns, self.n_traits)
        per_pattern, slot = [], 0
        for pairs, (my, yy) in zip(self._pattern_pairs, cross):
            g = np.zeros((self.n_traits, self.n_traits))
            from_r = my.T @ b
            for a, c in pairs:
                g[a, c] = through_c[slot] + yy[a, c] - 2.0 * from_r[a, c]
                slot += 1
            per_pattern.append(0.5 * (g + g.T))  # only its symmetric part acts on a symmetric Q_p
        per_term = {}
        for (k, alpha, beta), value in zip(self._prior_slots, through_c[self._n_likelihood_slots :]):
            if k not in per_term:
                d = self.terms[k].covariance_dim
                per_term[k] = np.zeros((d, d))
            per_term[k][alpha, beta] = value
        return per_pattern, per_term

    # ------------------------------------------------------------------ what depends on the response
    def cross_products(self, response: np.ndarray) -> list:
        """Per pattern (M_p'Y_p, Y_p'Y_p): the response's sufficient statistics.

        A pattern's missing traits enter as zeros, whatever the response holds there (an
        augmented value): Q_p is zero in their rows and columns, so every result is the same to
        the bit, and the statistics stay equal between iterations that changed only augmented
        values, which lets the collapsed step reuse its last factorisation (its cache)."""
        out = []
        for p, design_t, missing in zip(self.patterns, self._pattern_designs_t, self._pattern_missing):
            y = response[p.rows]
            if missing is not None:
                y[:, missing] = 0.0  # a copy: fancy indexing above
            out.append((np.asarray(design_t @ y), y.T @ y))
        return out

    def rhs(self, cross: list, precisions: list) -> np.ndarray:
        """r = vec(sum_p Q_p Y_p'M_p), element column * t + trait."""
        total = np.zeros((self.n_columns, self.n_traits))
        for (my, _), (q, _) in zip(cross, precisions):
            total += my @ q
        return total.ravel()

    def likelihood_perturbation(self, rng: np.random.Generator, precisions: list) -> np.ndarray:
        r"""A draw from :math:`N(0, \sum_p M_p'M_p \otimes Q_p)`, the likelihood part of C:
        :math:`\sum_p \mathrm{vec}(G_pZ_p'M_p)` with :math:`Z_p \sim N(0, I)` (records of p x
        observed traits) and :math:`G_p` (t x observed) holding the Cholesky factor of
        :math:`R_{oo}^{-1}` at the observed traits, so :math:`G_pG_p' = Q_p`. Element column * t + trait."""
        total = np.zeros((self.n_columns, self.n_traits))
        for p, design_t, (q, _) in zip(self.patterns, self._pattern_designs_t, precisions):
            o = np.asarray(p.observed)
            root = np.zeros((self.n_traits, o.size))
            root[o, :] = np.linalg.cholesky(q[np.ix_(o, o)])
            z = rng.standard_normal((p.rows.size, o.size))
            total += np.asarray(design_t @ (z @ root.T))
        return total.ravel()

    def response_quadratic(self, cross: list, precisions: list) -> float:
        """sum_p tr(Q_p Y_p'Y_p)."""
        return float(sum(np.sum(q * yy) for (_, yy), (q, _) in zip(cross, precisions)))

    def residual_log_determinant(self, precisions: list) -> float:
        """sum_p n_p log|R_oo|."""
        return float(sum(p.rows.size * logdet for p, (_, logdet) in zip(self.patterns, precisions)))

    # ------------------------------------------------------------------ effects
    def effects(self, states: list, indices: list) -> np.ndarray:
        """B (n x t) from the terms' states (``indices``: each term's position in ``states``)."""
        return np.vstack([term.effects_by_column(states[i]) for term, i in zip(self.terms, indices)])

    def set_effects(self, states: list, indices: list, b: np.ndarray) -> None:
        values = b.reshape(self.n_columns, self.n_traits)
        for k, (term, i) in enumerate(zip(self.terms, indices)):
            term.effects_by_column(states[i])[:] = values[self.column_offsets[k] : self.column_offsets[k + 1]]


def symmetric(matrix: np.ndarray) -> np.ndarray:
    """(M + M')/2: C is assembled from both triangles of each precision, which must agree exactly
    (the factorisation checks C's symmetry); an inverse computed in floating point need not."""
    return 0.5 * (matrix + matrix.T)


def scalar_precision(variance: float) -> tuple[float, float]:
    """(1/v, log v) of one variance by the arithmetic of ``precision_of`` and a Cholesky log-determinant
    on a 1 x 1 matrix (a root, its inverse), bit for bit, without the LAPACK calls."""
    if not variance > 0.0:
        raise np.linalg.LinAlgError("Matrix is not positive definite")
    root = np.sqrt(variance)
    inverse_root = 1.0 / root
    return inverse_root * inverse_root, 2.0 * float(np.log(root))


def precision_of(covariance: np.ndarray) -> np.ndarray:
    """The inverse of a symmetric positive definite covariance through its Cholesky factor, exactly
    symmetric (raises ``numpy.linalg.LinAlgError`` when it is not positive definite)."""
    inverse = np.linalg.inv(np.linalg.cholesky(covariance))
    return symmetric(inverse.T @ inverse)
