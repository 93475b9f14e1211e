"""Chains and cross-validation folds on a Dask cluster (issue 21 item 2): a LocalCluster of two worker processes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import bayesgen as bg

distributed = pytest.importorskip(
    "distributed", reason="dask.distributed is not installed (pip install bayesgen[dask])"
)

#: Times an instance of Counted was unpickled in this process (read on the workers with client.run).
UNPICKLED = [0]


def _unpickle(value):
    UNPICKLED[0] += 1
    return Counted(value)


def _unpickled_count():
    return UNPICKLED[0]


def _plugins_left(dask_worker):
    return [name for name in dask_worker.plugins if name.startswith("bayesgen-")]


class Counted:
    """A cell of the data frame that counts how often the process it lands in unpickles it."""

    def __init__(self, value):
        self.value = value

    def __reduce__(self):
        return (_unpickle, (self.value,))

    def __repr__(self):
        return f"Counted({self.value})"


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def sim():
    return bg.simulate(n_founders=20, n_generations=2, n_offspring=50, n_markers=80, seed=8, missing=0.1)


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


@pytest.mark.parametrize("kind", ["animal", "bayes-cpi"])
def test_chains_on_a_local_cluster_equal_the_local_draws_and_the_data_travel_once_per_worker(client, sim, kind):
    data = sim.phenotypes.copy()
    data["tag"] = [Counted(i) for i in range(len(data))]  # unpickled once per record each time the data travel
    if kind == "animal":
        model = bg.AnimalModel(data, "y", "id", sim.pedigree_object(), fixed=["sex"])
    else:
        model = bg.BayesCPi(data, "y", "id", sim.genotypes)
    before = client.run(_unpickled_count)
    remote = _quiet(model.sample, draws=30, burn=10, chains=4, seed=6, client=client)
    local = _quiet(model.sample, draws=30, burn=10, chains=4, seed=6, progress=False)
    for group in ("posterior", "sample_stats", "log_likelihood"):
        for name in local[group].data_vars:
            if name != "seconds":
                np.testing.assert_array_equal(
                    remote[group][name].values, local[group][name].values, err_msg=f"{group}/{name}"
                )
    after = client.run(_unpickled_count)
    # 4 chains on 2 workers: each worker received the model (and its data) exactly once, not once
    # per chain, nor again after the scheduler's memory manager dropped a replica
    received = {w: after[w] - before[w] for w in after}
    assert received == {w: len(data) for w in after}, received
    assert client.run(_plugins_left) == {w: [] for w in after}  # removed when the call ended
    continued = _quiet(model.sample, draws=5, resume=True, progress=False)  # the chains came back whole
    assert continued.posterior.sizes["draw"] == 5


def test_cross_validation_folds_on_a_local_cluster_equal_the_local_table(client, sim):
    model = bg.BayesCPi(sim.phenotypes, "y", "id", sim.genotypes)
    local = bg.cross_validate(model, 3, seed=2, draws=20, burn=10, chains=2)
    remote = bg.cross_validate(model, 3, seed=2, draws=20, burn=10, chains=2, client=client)
    assert remote.equals(local)
    assert remote.attrs["predictions"].equals(local.attrs["predictions"])


def test_client_arguments_are_checked(client, sim, tmp_path):
    model = bg.AnimalModel(sim.phenotypes, "y", "id", sim.pedigree_object())
    with pytest.raises(TypeError, match="client must be a dask.distributed.Client, got str"):
        model.sample(draws=5, client="tcp://scheduler:8786")
    with pytest.raises(ValueError, match="cores= with client="):
        model.sample(draws=5, client=client, cores=2)
    with pytest.raises(ValueError, match="checkpoint= with client="):
        model.sample(draws=5, client=client, checkpoint=tmp_path / "run.ckpt")
    _quiet(model.sample, draws=5, burn=2, chains=1, progress=False)
    with pytest.raises(ValueError, match="resume=True with client="):
        model.sample(draws=5, client=client, resume=True)
    with pytest.raises(TypeError, match="client must be a dask.distributed.Client"):
        bg.cross_validate(model, 3, client=object())
