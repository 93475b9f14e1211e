"""One BLAS thread while chains run: per-iteration BLAS calls are small, and a threaded BLAS slows them.

Why: the sampler's BLAS calls are vector products and thin matrix-vector products (``alpha @
alpha`` for a common marker variance, ``X beta`` of the fixed effects). OpenBLAS splits such a
call over its thread pool once it is long enough (a dot product of 10,346 markers is), and
waking that pool costs far more than the product: on the shared 2-core development machine a
10,346-long ``a @ a`` took 36 ms with the pool awake and 2 µs on one thread, which made a BRR
iteration on mice-sized data 68 ms instead of 29 ms. With several chains in threads the pools
also compete with the chains for the cores. Parallelism comes from the chains, so while
they run each BLAS library is set to one thread, then restored.

How: with ``threadpoolctl`` installed, its ``threadpool_limits``; otherwise the OpenBLAS
libraries mapped into the process (Linux ``/proc/self/maps``; the ``numpy.libs`` and
``scipy.libs`` copies of wheels) are found and their ``openblas_set_num_threads`` called
through ctypes, under each of the names OpenBLAS builds export. Elsewhere, nothing is changed.
The setting is process-wide: BLAS calls made by other threads during sampling run on one
thread too.
"""

from __future__ import annotations

import contextlib
import ctypes
import threading

_lock = threading.Lock()
_depth = 0  # nesting of single_threaded_blas (runs may start while others run)
_saved: list = []  # (set function, previous thread count) per library, restored by the outermost exit

_PREFIXES = ("", "scipy_")
_SUFFIXES = ("", "64_", "_64_")


def _openblas_controls():
    """(get, set) ctypes functions of each OpenBLAS library mapped into this process."""
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line})
    except OSError:
        return []
    controls = []
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in _PREFIXES:
            for suffix in _SUFFIXES:
                get = getattr(lib, f"{prefix}openblas_get_num_threads{suffix}", None)
                set_ = getattr(lib, f"{prefix}openblas_set_num_threads{suffix}", None)
                if get is not None and set_ is not None:
                    get.restype = ctypes.c_int
                    set_.argtypes = [ctypes.c_int]
                    controls.append((get, set_))
                    break
            else:
                continue
            break
    return controls


def blas_thread_counts() -> list[int]:
    """Current thread count of each OpenBLAS library in the process (for tests and reports)."""
    return [get() for get, _ in _openblas_controls()]


@contextlib.contextmanager
def single_threaded_blas():
    """Run the block with every BLAS library on one thread; restore the previous counts after."""
    global _depth
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    if threadpool_limits is not None:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
        return
    with _lock:
        if _depth == 0:
            _saved.clear()
            for get, set_ in _openblas_controls():
                _saved.append((set_, get()))
                set_(1)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                for set_, previous in _saved:
                    set_(previous)
                _saved.clear()
