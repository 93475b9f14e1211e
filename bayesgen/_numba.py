"""The one decorator used for every numba kernel in bayesgen.

Kernels are compiled with ``nogil=True`` so that chains can run in parallel threads,
``cache=True`` so compiled code is reused across processes, and without ``fastmath``:
the sweeps are sequential recurrences where reassociation would change the draws and
``nnan``/``ninf`` would hide numerical problems instead of surfacing them.

Importing numba takes about 0.1-0.4 s, so ``import bayesgen`` does not: ``kernel`` returns a
stand-in that imports numba and makes every pending kernel a numba dispatcher on the first
call of any kernel. At that point the stand-ins in the modules that define kernels are
replaced by the dispatchers, so a kernel that calls another kernel compiles as before.
Kernels defined after that are dispatchers at once.

``reduction`` is the same decorator with LLVM allowed to reassociate floating-point
additions (``fastmath={"reassoc"}``), for short sums whose order does not matter beyond
rounding (one marker's x_j'e): the reduction then runs in SIMD registers, about 4x
faster than four scalar partial sums. It is used only for such leaf functions, never for
a recurrence; ``nnan``/``ninf`` stay off.
"""

import threading

_lock = threading.RLock()
_pending = []  # stand-ins not yet compiled
_numba = None  # the numba module once imported
_FASTMATH = {"kernel": False, "reduction": {"reassoc"}}


class _LazyKernel:
    """A kernel before numba is imported: calls and attribute reads go to the dispatcher."""

    def __init__(self, fn, kind):
        self.py_func = fn
        self.kind = kind
        self.dispatcher = None
        self.__name__ = fn.__name__
        self.__qualname__ = fn.__qualname__
        self.__module__ = fn.__module__
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    def _dispatch(self):
        if self.dispatcher is None:
            _load_numba()
        return self.dispatcher

    def __call__(self, *args, **kwargs):
        return self._dispatch()(*args, **kwargs)

    def __getattr__(self, name):  # only reached for attributes not set above
        return getattr(self._dispatch(), name)

    def __repr__(self):
        return f"<bayesgen kernel {self.__qualname__} (numba not loaded yet)>"


def _replace_stand_ins(namespace):
    for key, value in list(namespace.items()):
        if isinstance(value, _LazyKernel):
            if value.dispatcher is None:
                _load_numba()
            namespace[key] = value.dispatcher


def _compile(fn, kind):
    return _numba.njit(nogil=True, cache=True, fastmath=_FASTMATH[kind])(fn)


def _load_numba():
    global _numba
    with _lock:
        if _numba is None:
            import numba

            _numba = numba
        pending = list(_pending)
        _pending.clear()
        for lazy in pending:
            lazy.dispatcher = _compile(lazy.py_func, lazy.kind)
        for lazy in pending:
            _replace_stand_ins(lazy.py_func.__globals__)


def _decorate(fn, kind):
    with _lock:
        if _numba is None:
            lazy = _LazyKernel(fn, kind)
            _pending.append(lazy)
            return lazy
    _replace_stand_ins(fn.__globals__)
    return _compile(fn, kind)


def kernel(fn):
    """``numba.njit(nogil=True, cache=True)``, with numba imported on the first kernel call."""
    return _decorate(fn, "kernel")


def reduction(fn):
    """:func:`kernel` with reassociation of floating-point additions allowed (leaf sums only)."""
    return _decorate(fn, "reduction")
