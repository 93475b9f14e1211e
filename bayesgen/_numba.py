"""The one decorator used for every numba kernel in bayesgen.

Kernels are compiled with ``nogil=True`` so that chains can run in parallel threads,
``cache=True`` so compiled code is reused across processes, and without ``fastmath``:
the sweeps are sequential recurrences where reassociation would change the draws and
``nnan``/``ninf`` would hide numerical problems instead of surfacing them.
"""

import numba

kernel = numba.njit(nogil=True, cache=True)
