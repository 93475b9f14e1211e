"""Floor kernels for the marker-sweep benchmarks (bench_markers.py, performance.py).

The floor is the least any exact single-site sweep must do: per marker one int8 dot product
with the residual and one axpy into it, compiled like every bayesgen kernel (no fastmath).
``floor_sweep`` keeps one accumulator (each addition waits on the last); ``floor_sweep_unrolled``
splits the dot product into four partial sums, as the sweep does; ``floor_simd`` takes it in
SIMD registers (reassociated: the sweep's own ``_code_residual_dot``).
"""

from bayesgen._numba import kernel
from bayesgen.kernels.markers import _code_residual_dot


@kernel
def floor_sweep(codes, resid, scale):
    """One int8 dot product and one axpy per marker (the step depends on the dot product)."""
    n_markers, n = codes.shape
    for j in range(n_markers):
        row = codes[j]
        s = 0.0
        for i in range(n):
            s += row[i] * resid[i]
        d = scale * s
        for i in range(n):
            resid[i] -= row[i] * d


@kernel
def floor_sweep_unrolled(codes, resid, scale):
    """The floor with four partial sums in the dot product (additions independent)."""
    n_markers, n = codes.shape
    stop = n - n % 4
    for j in range(n_markers):
        row = codes[j]
        s0 = s1 = s2 = s3 = 0.0
        for i in range(0, stop, 4):
            s0 += row[i] * resid[i]
            s1 += row[i + 1] * resid[i + 1]
            s2 += row[i + 2] * resid[i + 2]
            s3 += row[i + 3] * resid[i + 3]
        for i in range(stop, n):
            s0 += row[i] * resid[i]
        d = scale * ((s0 + s1) + (s2 + s3))
        for i in range(n):
            resid[i] -= row[i] * d


@kernel
def floor_simd(codes, resid, scale):
    """The floor with the dot product in SIMD registers (reassociated)."""
    for j in range(codes.shape[0]):
        row = codes[j]
        d = scale * _code_residual_dot(row, resid)
        for i in range(row.size):
            resid[i] -= row[i] * d
