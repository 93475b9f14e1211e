"""Iterative solvers of the mixed-model equations Cx = r: Gauss-Seidel sweeps, with or without residual updates.

``gauss_seidel_sweep``: one sweep over the rows of C (CSR), x_i <- (r_i - sum_{j != i} C_ij x_j) / C_ii.

``gsru_sweep``: Gauss-Seidel with residual update (Legarra & Misztal 2008) for one trait,
C = M'M / s2e + P (P: the prior part, CSR); M'M is never formed: with e = y - Mx kept current,
x_j <- (M_j'e / s2e + (M_j'M_j / s2e) x_j - sum_{l != j} P_jl x_l) / (M_j'M_j / s2e + P_jj), then
e -= M_j (x_j,new - x_j,old). The design is read by columns (CSC).
"""

from __future__ import annotations

from .._numba import kernel


@kernel
def gauss_seidel_sweep(indptr, indices, data, rhs, x):
    """One in-place sweep; returns the largest absolute change of an x_i."""
    largest = 0.0
    for i in range(x.size):
        total = rhs[i]
        diagonal = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            if j == i:
                diagonal = data[k]
            else:
                total -= data[k] * x[j]
        new = total / diagonal
        change = abs(new - x[i])
        if change > largest:
            largest = change
        x[i] = new
    return largest


@kernel
def gsru_sweep(col_ptr, row_idx, values, column_ss, p_ptr, p_idx, p_data, residual, inverse_s2e, x):
    """One in-place sweep with residual updates (module docstring); returns the largest absolute change."""
    largest = 0.0
    for j in range(x.size):
        mte = 0.0
        for k in range(col_ptr[j], col_ptr[j + 1]):
            mte += values[k] * residual[row_idx[k]]
        lhs = column_ss[j] * inverse_s2e
        total = mte * inverse_s2e + lhs * x[j]
        for k in range(p_ptr[j], p_ptr[j + 1]):
            other = p_idx[k]
            if other == j:
                lhs += p_data[k]
            else:
                total -= p_data[k] * x[other]
        new = total / lhs
        delta = new - x[j]
        if delta != 0.0:
            for k in range(col_ptr[j], col_ptr[j + 1]):
                residual[row_idx[k]] -= values[k] * delta
        change = abs(delta)
        if change > largest:
            largest = change
        x[j] = new
    return largest
