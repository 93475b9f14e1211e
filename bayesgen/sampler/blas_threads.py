"""One BLAS thread while chains run: per-iteration BLAS calls are small, and a threaded BLAS slows them.

Why: the sampler's BLAS calls are vector products and thin matrix-vector products (``alpha @
alpha`` for a common marker variance, ``X beta`` of the fixed effects). OpenBLAS splits such a
call over its thread pool once it is long enough (a dot product of 10,346 markers is), and
waking that pool costs far more than the product: on the shared 2-core development machine a
10,346-long ``a @ a`` took 36 ms with the pool awake and 2 µs on one thread, which made a BRR
iteration on mice-sized data 68 ms instead of 29 ms. With several chains in threads the pools
also compete with the chains for the cores. Parallelism comes from the chains, so while
they run each BLAS library is set to one thread (threadpoolctl), then restored.

The setting is process-wide, so runs that overlap (one started while another runs, in any
thread) share one limit: it is set by the first to start and restored when the last ends.
BLAS calls made by other threads during sampling run on one thread too.
"""

from __future__ import annotations

import contextlib
import threading

_lock = threading.Lock()
_depth = 0  # runs inside single_threaded_blas now (they may overlap)
_limiter = None  # threadpoolctl's limiter of the outermost run, restored when the last run ends


def blas_thread_counts() -> list[int]:
    """Current thread count of each BLAS library loaded in the process (for tests and reports)."""
    from threadpoolctl import threadpool_info

    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


@contextlib.contextmanager
def single_threaded_blas():
    """Run the block with every BLAS library on one thread; restore the previous counts after."""
    global _depth, _limiter
    from threadpoolctl import threadpool_limits

    with _lock:
        if _depth == 0:
            _limiter = threadpool_limits(limits=1, user_api="blas")
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _limiter.restore_original_limits()
                _limiter = None
