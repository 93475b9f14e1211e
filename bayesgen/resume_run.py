"""``bayesgen.resume``: continue a checkpointed run (``Model.sample(checkpoint=...)``) in a new process."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import arviz as az

    from .model.model import Model


class RunComplete(ValueError):
    """``resume`` without ``draws`` of a run that has all its draws."""


def resume(
    checkpoint: str | os.PathLike,
    model: Model | None = None,
    draws: int | None = None,
    progress: bool = True,
    cores: int | None = None,
    checkpoint_every: int | str | None = None,
    check_convergence: bool = True,
) -> az.InferenceData:
    """Continue the run saved in ``checkpoint`` exactly where each chain stopped; return the
    InferenceData of the whole run (the draws in the file and the new ones).

    Parameters
    ----------
    checkpoint : str or path
        A file written by ``Model.sample(checkpoint=...)`` or ``bayesgen fit --checkpoint``.
        It is loaded without unpickling; one that is truncated, edited, pickled or not a
        checkpoint is a ``CheckpointError`` saying so.
    model : Model, optional
        The model of the run, rebuilt from the same data with the same terms and options (the
        checkpoint does not store the model: it checks a fingerprint of it, and a model or
        data set that differs is a ``CheckpointError``). Not needed for a checkpoint written
        by the command line, which rebuilds the model from its spec.
    draws : int, optional
        Draws per chain to add to those the run planned (None: just finish the planned ones).
        A run of n draws resumed with ``draws=m`` gives, bit for bit, the draws of one run of
        n + m with the same seed.
    progress, cores, check_convergence
        As for ``Model.sample``.
    checkpoint_every : optional
        The interval of the continued run's writes (default: the run's own). The continued run
        keeps writing the same file.
    """
    from .sampler.checkpoint import CheckpointWriter, check_model, read_checkpoint, restore_chains, store_of
    from .sampler.driver import check_count, run_chains
    from .sampler.gibbs import Gibbs

    saved = read_checkpoint(checkpoint)
    origin = saved.meta.get("origin")
    if model is None:
        if not origin or "spec" not in origin:
            raise ValueError(
                f"{str(saved.path)!r} was written from Python, not from a spec: pass the model, rebuilt "
                "from the same data (bayesgen.resume(path, model))."
            )
        from .cli.spec import load_spec

        model = load_spec(origin["spec"], origin.get("overrides") or {}).model
    check_model(saved, model)
    run = saved.run
    planned = int(run["draws"])
    target = planned if draws is None else planned + check_count(draws, "draws", 1)
    chains = saved.meta["chains"]
    total = int(run["burn"]) + target * int(run["thin"])
    if all(int(c["done"]) >= total for c in chains):
        raise RunComplete(
            f"The run in {str(saved.path)!r} is complete ({planned} draws per chain): pass draws=n to "
            "continue it with n more draws per chain."
        )
    store = store_of(run)
    restored = restore_chains(saved, model, Gibbs(model), target, store)
    kind, every = run["every"]
    if checkpoint_every is None:
        checkpoint_every = int(every) if kind == "iterations" else f"{every}s"
    writer = CheckpointWriter(saved.path, checkpoint_every, origin=origin)
    result = run_chains(
        model,
        draws=target,
        burn=int(run["burn"]),
        thin=int(run["thin"]),
        progress=progress,
        store=store,
        cores=cores,
        checkpoint=writer,
        restored=restored,
        seed_entropy=int(run["seed_entropy"]),
    )
    return model._finish(result, check_convergence)
