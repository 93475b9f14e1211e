"""Which location block ``sampler="auto"`` builds: by the cost of one factorisation, known from
the symbolic analysis before any numeric work."""

from __future__ import annotations

#: "auto" factorises only mixed-model equations with at most this many rows ...
AUTO_MAX_EQUATIONS = 300_000
#: ... whose Cholesky factor has at most this many nonzeros ...
AUTO_MAX_FACTOR_NONZEROS = 2_000_000
#: ... and costs at most this many flops (about 2-5 ms on one core); beyond, single-site
#: updates are cheaper per effective draw (README, "Location samplers").
AUTO_MAX_FLOPS = 2e7


def n_equations(model, indices) -> int:
    return sum(model.terms[k].n_columns for k in indices) * model.n_traits


def auto_block(model, indices):
    """The location block "auto" picks, or None for single-site updates.

    The collapsed block when a term with a sampled covariance is among ``indices`` and one
    factorisation of the mixed-model equations is cheap (known from the symbolic analysis);
    single-site otherwise: large random-mating pedigrees fill the factor almost completely.

    The perturbation block (``sampler="pcg"``, no factorisation) is never picked here: on the
    animal model it was built for (``benchmarks/bench_pcg.py``: 20,000 and 200,000 animals), its
    h2 ESS per draw is no better than single-site's with the group move, at 10-30x the time per
    iteration, so single-site gives more ESS per second (docs/guide/large-data.md).
    """
    from ..kernels.cholesky import FactorTooLargeError
    from .collapsed import CollapsedLocations

    if not any(model.terms[k].samples_covariance for k in indices):
        return None
    if n_equations(model, indices) > AUTO_MAX_EQUATIONS:
        return None
    try:
        block = CollapsedLocations(model, indices, max_factor_nonzeros=AUTO_MAX_FACTOR_NONZEROS)
    except FactorTooLargeError:
        return None
    return block if block.symbolic.flops <= AUTO_MAX_FLOPS else None
