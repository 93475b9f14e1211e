"""The one decorator used for every numba kernel in bayesgen.

Kernels are compiled with ``nogil=True`` so that chains can run in parallel threads,
``cache=True`` so compiled code is reused across processes, and without ``fastmath``:
the sweeps are sequential recurrences where reassociation would change the draws and
``nnan``/``ninf`` would hide numerical problems instead of surfacing them.

Importing numba takes about 0.1-0.4 s, so ``import bayesgen`` does not: ``kernel`` returns a
stand-in that imports numba on the first call of a kernel and makes it a numba dispatcher then,
together with every other stand-in in its module's namespace (the module's own kernels and the
ones it imports), and so on through those kernels' modules; the stand-ins in those namespaces
are then replaced by the dispatchers, so a kernel that calls another kernel compiles as before.
Modules whose kernels a run never calls (the marker sweeps in an animal model) never make
dispatchers: each costs about 0.2 ms, and bayesgen defines some 60 kernels.

``reduction`` is the same decorator with LLVM allowed to reassociate floating-point
additions (``fastmath={"reassoc"}``), for short sums whose order does not matter beyond
rounding (one marker's x_j'e): the reduction then runs in SIMD registers, about 4x
faster than four scalar partial sums. It is used only for such leaf functions, never for
a recurrence; ``nnan``/``ninf`` stay off.
"""

import threading

_lock = threading.RLock()
_numba = None  # the numba module once imported
_FASTMATH = {"kernel": False, "reduction": {"reassoc"}}


class _LazyKernel:
    """A kernel before its first call: calls and attribute reads go to the dispatcher."""

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
            _make_dispatchers(self)
        return self.dispatcher

    def __call__(self, *args, **kwargs):
        return self._dispatch()(*args, **kwargs)

    def __getattr__(self, name):  # only reached for attributes not set above
        return getattr(self._dispatch(), name)

    def __repr__(self):
        return f"<bayesgen kernel {self.__qualname__} (not compiled yet)>"


def _compile(fn, kind):
    return _numba.njit(nogil=True, cache=True, fastmath=_FASTMATH[kind])(fn)


def _make_dispatchers(first):
    """Make ``first`` a dispatcher, with every stand-in reachable from its module's namespace."""
    global _numba
    with _lock:
        if _numba is None:
            import numba

            _numba = numba
        todo, namespaces = [first], {}
        while todo:
            lazy = todo.pop()
            if lazy.dispatcher is None:
                lazy.dispatcher = _compile(lazy.py_func, lazy.kind)
            namespace = lazy.py_func.__globals__
            if id(namespace) not in namespaces:
                namespaces[id(namespace)] = namespace
                todo.extend(v for v in list(namespace.values()) if isinstance(v, _LazyKernel) and v.dispatcher is None)
        for namespace in namespaces.values():
            for key, value in list(namespace.items()):
                if isinstance(value, _LazyKernel) and value.dispatcher is not None:
                    namespace[key] = value.dispatcher


def _decorate(fn, kind):
    return _LazyKernel(fn, kind)


def kernel(fn):
    """``numba.njit(nogil=True, cache=True)``, with numba imported and the dispatcher made on the first call."""
    return _decorate(fn, "kernel")


def reduction(fn):
    """:func:`kernel` with reassociation of floating-point additions allowed (leaf sums only)."""
    return _decorate(fn, "reduction")
