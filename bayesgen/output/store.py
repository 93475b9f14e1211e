"""``store="auto"``: keep full draws of high-dimensional vectors only while they fit a budget.

High-dimensional vectors are the per-animal, per-level, per-marker and per-record
quantities (``Variable.high_dimensional``: ``u``, random-effect levels, ``alpha``, the
pointwise log-likelihood, predictions of missing records). Their full draws cost
``chains * draws * n_values_per_draw`` numbers, held as float64 while sampling and written
as float32 (see :func:`bayesgen.output.save`); scalars and fixed effects are always kept
in full, whatever the mode.
"""

from __future__ import annotations

import numpy as np

#: Values of high-dimensional vectors kept over all chains before "auto" switches to running
#: mean and sd: 25 million, i.e. 200 MB of float64 in memory while sampling and 100 MB of
#: float32 on disk. The quickstart (models/animal.toml: 4 chains x 2,000 draws x 2,146
#: values) stays below it (full draws, 69 MB); gryphon's four-component model with 2 chains
#: x 20,000 draws x 2,591 values (104 million) goes above (summaries, 2 MB instead of 417 MB).
STORE_BUDGET = 25_000_000

STORE_MODES = ("auto", "full", "summary")


def _count(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def choose_store(n_values_per_draw: int, draws: int, chains: int, budget: int = STORE_BUDGET) -> str:
    """``"full"`` if ``chains * draws * n_values_per_draw <= budget``, else ``"summary"``.

    ``n_values_per_draw`` is the total size of the high-dimensional variables of one draw
    (e.g. animals + observed records + 2 x missing records for the animal model).
    """
    n_values_per_draw = _count(n_values_per_draw, "n_values_per_draw", 0)
    draws = _count(draws, "draws", 1)
    chains = _count(chains, "chains", 1)
    budget = _count(budget, "budget", 0)
    return "full" if chains * draws * n_values_per_draw <= budget else "summary"


def high_dimensional_values(variables) -> int:
    """Values per draw of the ``high_dimensional`` variables among ``variables``
    (``bayesgen.variable.Variable``): the ``n_values_per_draw`` of :func:`choose_store`."""
    return int(sum(int(np.prod(v.shape, dtype=np.int64)) for v in variables if v.high_dimensional))


def resolve_store(store: str, n_values_per_draw: int, draws: int, chains: int) -> str:
    """``store`` itself for "full" and "summary"; :func:`choose_store` for "auto"."""
    if store not in STORE_MODES:
        raise ValueError(f"store must be one of {', '.join(map(repr, STORE_MODES))}, got {store!r}.")
    return choose_store(n_values_per_draw, draws, chains) if store == "auto" else store
