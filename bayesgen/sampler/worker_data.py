"""Data every task of one call needs, held on each Dask worker for the length of the call.

A ``WorkerPlugin`` rather than ``client.scatter(..., broadcast=True)``: the scheduler's active
memory manager drops the replicas of a scattered key that no queued task waits for, and a chain
that a worker takes later fetches the data again (seen in CI: one of two workers unpickled the
model twice). A plugin is sent to each worker once, to workers that join later too, and stays
until it is unregistered. The price: for workers that join later, the scheduler keeps the pickled
plugin (one copy of the data, as bytes) until the call ends. Imported only with ``client=`` (it
needs ``distributed``).
"""

from __future__ import annotations

import uuid

from distributed import get_worker
from distributed.diagnostics.plugin import WorkerPlugin


class WorkerData(WorkerPlugin):
    """Holds ``shared`` on a worker (unpickled there once, with the plugin) until the call ends."""

    idempotent = False

    def __init__(self, shared):
        self.shared = shared

    def teardown(self, worker):
        self.shared = None


def run_with_worker_data(task, name: str, *arguments):
    """``task(shared, *arguments)`` on a worker, with ``shared`` the data of plugin ``name``."""
    plugin = get_worker().plugins[name]
    assert isinstance(plugin, WorkerData)
    return task(plugin.shared, *arguments)


def map_with_worker_data(client, shared, task, arguments: list, keys=None) -> list:
    """``[task(shared, *a) for a in arguments]`` as tasks on ``client``'s workers, in order, with
    ``shared`` sent to each worker once (module docstring) and removed from them when the tasks end
    or fail; Ctrl-C cancels the tasks. ``keys``: optional task keys, one per argument tuple."""
    name = f"bayesgen-data-{uuid.uuid4().hex}"
    client.register_plugin(WorkerData(shared), name=name)
    try:
        futures = [
            client.submit(run_with_worker_data, task, name, *a, pure=False, **({"key": keys[k]} if keys else {}))
            for k, a in enumerate(arguments)
        ]
        try:
            return client.gather(futures)
        except KeyboardInterrupt:
            client.cancel(futures)
            raise
    finally:
        client.unregister_worker_plugin(name)
