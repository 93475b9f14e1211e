"""Chains as tasks on a Dask cluster (``Model.sample(..., client=...)``; ``pip install bayesgen[dask]``).

The model (with its data: genotypes, pedigree, designs) is sent to every worker once, as a
worker plugin (``worker_data.py``), and each chain is one task that finds it there: no task
carries the data again. A chain's task does on the worker exactly what the local driver
does in a thread: its generator from ``SeedSequence(seed).spawn(chains)[c]``, ``Gibbs.init``,
then ``run_chain`` with BLAS on one thread. So the draws are those of a local run with the same
seed, bit for bit, whatever the number of workers.
"""

from __future__ import annotations

import threading

import numpy as np

from .blas_threads import single_threaded_blas
from .driver import SamplerResult, _keep_after_failures, check_count, run_chain
from .gibbs import Gibbs
from .storage import ChainStorage


def check_client(client):
    """``client`` if it is a ``dask.distributed.Client``; a clear error otherwise (and without dask)."""
    try:
        from distributed import Client
    except ImportError as err:
        raise ImportError("client= needs dask.distributed: pip install 'bayesgen[dask]'.") from err
    if not isinstance(client, Client):
        raise TypeError(f"client must be a dask.distributed.Client, got {type(client).__name__}.")
    return client


def map_on_cluster(client, shared, task, arguments: list, keys=None) -> list:
    """``[task(shared, *a) for a in arguments]`` as tasks on ``client``'s workers, in order.

    ``shared`` (the model or the data every task needs) is sent to each worker once and removed
    when the tasks end (``worker_data.map_with_worker_data``); Ctrl-C cancels them.
    ``keys``: optional task keys, one per argument tuple.
    """
    from .worker_data import map_with_worker_data

    return map_with_worker_data(client, shared, task, arguments, keys)


class ChainPayload:
    """What every chain task needs: the model and the chains' start (None: the terms' own values).
    One object, so that the start (REML's, which refers to the model) shares the model's data
    when pickled rather than carrying a second copy."""

    def __init__(self, model, start):
        self.model, self.start = model, start


def _run_chain_task(shared, entropy, index: int, chains: int, draws: int, burn: int, thin: int, store):
    """One chain on a worker: what ``run_chains`` does for chain ``index`` in its thread.
    ``shared``: the ``ChainPayload``."""
    model, start = shared.model, shared.start
    rng = np.random.default_rng(np.random.SeedSequence(entropy).spawn(chains)[index])
    gibbs = Gibbs(model)
    storage = ChainStorage(model.variables(), draws, store)
    with single_threaded_blas():
        chain = gibbs.init(rng) if start is None else gibbs.init(rng, start)
        failure = run_chain(gibbs, rng, chain, storage, burn, thin, draws, threading.Event(), [0] * chains, index)
    return storage, chain, rng, failure


def run_chains_distributed(
    client, model, draws=1000, burn=500, thin=1, chains=4, seed=None, store="full", start=None
) -> SamplerResult:
    """``run_chains`` with each chain a task on ``client``'s workers (module docstring); ``start`` as
    in ``run_chains`` (e.g. REML's, computed here once and sent with the model)."""
    draws = check_count(draws, "draws", 1)
    burn = check_count(burn, "burn", 0)
    thin = check_count(thin, "thin", 1)
    chains = check_count(chains, "chains", 1)
    if seed is not None:
        seed = check_count(seed, "seed", 0)
    entropy = np.random.SeedSequence(seed).entropy
    # the model and its data travel once per worker
    results = map_on_cluster(
        client,
        ChainPayload(model, start),
        _run_chain_task,
        [(entropy, c, chains, draws, burn, thin, store) for c in range(chains)],
        keys=[f"bayesgen-chain-{c}-{entropy}" for c in range(chains)],
    )
    storages = [r[0] for r in results]
    final = []
    for _, chain, rng, _ in results:
        chain.ctx.likelihood = model.likelihood  # the worker's copy: the model's own (for resume=True)
        final.append((chain, rng))
    failures = [r[3] for r in results if r[3] is not None]
    kept_chains, kept = list(range(chains)), draws
    if failures:
        kept_chains, kept = _keep_after_failures(storages, failures, draws)
    burn_left = [0] * chains
    for f in failures:
        burn_left[f.chain] = max(0, burn - f.iteration)
    return SamplerResult(
        [storages[c] for c in kept_chains],
        kept,
        entropy,
        draws,
        burn,
        thin,
        False,
        final,
        kept_chains,
        burn_left,
        failures,
    )
