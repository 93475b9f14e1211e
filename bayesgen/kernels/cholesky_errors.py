"""The failure of a numeric Cholesky factorisation, importable without the compiled kernels."""


class NotPositiveDefiniteError(ValueError):
    """The numeric factorisation met a pivot that is not positive (C is not positive definite,
    or not numerically: an extreme ratio of variances can make C so ill-conditioned that
    rounding produces such a pivot).

    Raised by :meth:`SparseCholesky.factorize`; the factor is then invalid until the next
    successful ``factorize``. Carries ``pivot`` (position in the elimination order), ``row``
    (the row of C) and ``remainder`` (the pivot's value). Samplers catch this class, not the
    message: a Metropolis step rejects the candidate (density 0), a Gibbs draw cannot.
    """

    def __init__(self, message, *, pivot: int, row: int, remainder: float):
        super().__init__(message)
        self.pivot = pivot
        self.row = row
        self.remainder = remainder
