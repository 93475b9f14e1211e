"""Checkpoints on disk (issue 21 item 1): resume in a new process bit for bit, SIGKILL, bad files."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import textwrap
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesgen as bg
from bayesgen.sampler import checkpoint as ck
from bayesgen.sampler.checkpoint import CheckpointError

ROOT = Path(__file__).resolve().parents[1]
#: The small simulated data set the models below use (rebuilt identically in child processes).
SIM = dict(n_founders=20, n_generations=2, n_offspring=50, n_markers=80, seed=8, missing=0.1)


@pytest.fixture(scope="module")
def sim():
    return bg.simulate(**SIM)


def _two_traits():
    rng = np.random.default_rng(1)
    data = pd.DataFrame({"y1": rng.normal(size=120), "grp": rng.integers(0, 8, 120)})
    data["y2"] = 0.5 * data.y1 + rng.normal(size=120)
    data.loc[::7, "y2"] = np.nan
    return data


MODELS = {
    "animal-collapsed": lambda s: bg.AnimalModel(s.phenotypes, "y", "id", s.pedigree_object(), fixed=["sex"]),
    "animal-joint": lambda s: bg.AnimalModel(s.phenotypes, "y", "id", s.pedigree_object(), sampler="joint"),
    "animal-pcg": lambda s: bg.AnimalModel(s.phenotypes, "y", "id", s.pedigree_object(), sampler="pcg"),
    "animal-single-site": lambda s: bg.AnimalModel(
        s.phenotypes, "y", "id", s.pedigree_object(), fixed=["sex"], sampler="single-site"
    ),
    "bayes-cpi": lambda s: bg.BayesCPi(s.phenotypes, "y", "id", s.genotypes),
    "bayes-r": lambda s: bg.BayesR(s.phenotypes, "y", "id", s.genotypes),
    # two traits, a missing one: the collapsed block's Hamiltonian step (6 covariance parameters)
    "two-traits-hmc": lambda s: bg.Model(_two_traits(), ["y1", "y2"], [bg.Fixed(), bg.Random("grp")]),
    "two-traits-single-site": lambda s: bg.Model(
        _two_traits(), ["y1", "y2"], [bg.Fixed(), bg.Random("grp")], sampler="single-site"
    ),
}


def _assert_same_draws(a, b, groups=("posterior", "sample_stats", "log_likelihood")):
    for group in groups:
        if group not in a.groups():
            continue
        for name in a[group].data_vars:
            if name == "seconds":
                continue
            np.testing.assert_array_equal(b[group][name].values, a[group][name].values, err_msg=f"{group}/{name}")


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_every_checkpoint_of_a_run_resumes_to_the_same_draws(sim, kind, tmp_path, monkeypatch):
    """Every file the run writes (at its start, every 7 iterations of each chain, mid burn-in
    and mid draws, and at its end), resumed with a new model object, finishes the run with the
    draws of one uninterrupted run, bit for bit: states, generators, the residual, the blocks'
    adaptive states and the collapsed block's cache are all restored."""
    options = dict(draws=20, burn=8, chains=2, seed=4, progress=False, cores=1)
    whole = _quiet(MODELS[kind](sim).sample, **options)
    path = tmp_path / "run.ckpt"
    copies = []
    save = ck.CheckpointWriter.save

    def save_and_copy(self):
        save(self)
        copies.append(shutil.copy(path, tmp_path / f"copy{len(copies)}.ckpt"))

    monkeypatch.setattr(ck.CheckpointWriter, "save", save_and_copy)
    _quiet(MODELS[kind](sim).sample, checkpoint=path, checkpoint_every=7, **options)
    monkeypatch.undo()
    assert len(copies) == 2 + 2 * (28 // 7)  # start, 4 intervals of each chain, end
    for copy in copies[:-2]:  # the last interval's write holds the finished run, as the end's
        rest = _quiet(bg.resume, copy, MODELS[kind](sim), progress=False)
        _assert_same_draws(whole, rest)
    more = _quiet(bg.resume, copies[-1], MODELS[kind](sim), draws=5, progress=False)
    longer = _quiet(MODELS[kind](sim).sample, **dict(options, draws=25))
    _assert_same_draws(longer, more)


def test_summary_storage_is_checkpointed(sim, tmp_path):
    """store="summary": the running means, sds and inclusion counts continue exactly."""
    options = dict(draws=20, burn=5, chains=2, seed=3, progress=False, store="summary")
    whole = _quiet(MODELS["bayes-cpi"](sim).sample, **dict(options, draws=30))
    _quiet(MODELS["bayes-cpi"](sim).sample, checkpoint=tmp_path / "s.ckpt", **options)
    rest = _quiet(bg.resume, tmp_path / "s.ckpt", MODELS["bayes-cpi"](sim), draws=10, progress=False)
    _assert_same_draws(whole, rest, groups=("posterior", "posterior_summary"))


CHILD = """
import sys, warnings
warnings.simplefilter("ignore")
import numpy as np
import bayesgen as bg
sim = bg.simulate(**{sim})
model = bg.AnimalModel(sim.phenotypes, "y", "id", sim.pedigree_object(), fixed=["sex"])
"""


def _python(code: str, tmp_path: Path, **kwargs):
    script = tmp_path / f"child{len(list(tmp_path.glob('child*.py')))}.py"
    script.write_text(textwrap.dedent(CHILD.format(sim=SIM)) + textwrap.dedent(code))
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, str(script)], cwd=tmp_path, env=env, **kwargs)


def test_two_runs_of_500_draws_in_new_processes_equal_one_of_1000(sim, tmp_path):
    """Issue 21, Must show: 2 x 500 draws, the second resumed in a new process, equal 1 x 1,000 bit for bit."""
    first = _python(
        """
        model.sample(draws=500, burn=50, chains=2, seed=21, progress=False, checkpoint="run.ckpt",
                     check_convergence=False)
    """,
        tmp_path,
    )
    assert first.wait(timeout=600) == 0
    second = _python(
        """
        idata = bg.resume("run.ckpt", model, draws=500, progress=False, check_convergence=False)
        np.savez("draws.npz", **{name: idata.posterior[name].values for name in ("u", "sigma2_a", "sigma2_e", "beta")})
    """,
        tmp_path,
    )
    assert second.wait(timeout=600) == 0
    whole = _quiet(MODELS["animal-collapsed"](sim).sample, draws=1000, burn=50, chains=2, seed=21, progress=False)
    with np.load(tmp_path / "draws.npz") as resumed:
        for name in resumed.files:
            assert resumed[name].shape[1] == 1000
            np.testing.assert_array_equal(resumed[name], whole.posterior[name].values, err_msg=name)


def test_a_job_killed_with_sigkill_loses_at_most_one_interval(sim, tmp_path):
    """A child prints each iteration it completes (slowed to ~10 ms each) and is killed with
    SIGKILL at iteration 137 of 320. The checkpoint on disk is intact, its chain at most one
    interval (10 iterations) behind the last iteration printed, and ``bg.resume`` finishes the
    run with the draws of an uninterrupted one."""
    child = _python(
        """
        import time
        import bayesgen.sampler.gibbs as gibbs
        step = gibbs.Gibbs.step
        def printing_step(self, rng, chain, tuning=False):
            info = step(self, rng, chain, tuning)
            print(chain.ctx.iteration, flush=True)
            time.sleep(0.01)
            return info
        gibbs.Gibbs.step = printing_step
        model.sample(draws=300, burn=20, chains=1, seed=5, progress=False, checkpoint="run.ckpt",
                     checkpoint_every=10)
    """,
        tmp_path,
        stdout=subprocess.PIPE,
        text=True,
    )
    last = 0
    try:
        for line in child.stdout:
            last = int(line)
            if last >= 137:
                child.send_signal(signal.SIGKILL)
                break
        last = max([last] + [int(x) for x in child.stdout.read().split()])
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    assert last < 320  # killed mid-run
    done = ck.read_checkpoint(tmp_path / "run.ckpt").meta["chains"][0]["done"]
    assert 0 <= last - done <= 10, (last, done)
    rest = _quiet(bg.resume, tmp_path / "run.ckpt", MODELS["animal-collapsed"](sim), progress=False)
    whole = _quiet(MODELS["animal-collapsed"](sim).sample, draws=300, burn=20, chains=1, seed=5, progress=False)
    _assert_same_draws(whole, rest)


def test_a_run_interrupted_by_ctrl_c_is_written_and_resumed_exactly(sim, tmp_path, monkeypatch):
    """Ctrl-C while chain 2 is 7 iterations into its burn-in and chain 3 has not started: the
    checkpoint holds every chain where it stopped, and resuming it finishes each as one
    uninterrupted run would (chains 2 and 3 run the rest of their burn-in first)."""
    from test_sampler import _interrupting_run_chain

    options = dict(draws=30, burn=20, chains=4, cores=2, seed=11, progress=False)
    whole = _quiet(MODELS["animal-collapsed"](sim).sample, **options)
    with monkeypatch.context() as patch:
        _interrupting_run_chain(patch, {2: 7, 3: 0})
        _quiet(MODELS["animal-collapsed"](sim).sample, checkpoint=tmp_path / "c.ckpt", **options)
    done = [c["done"] for c in ck.read_checkpoint(tmp_path / "c.ckpt").meta["chains"]]
    assert done[2:] == [7, 0] and done[0] == done[1] == 50
    rest = _quiet(bg.resume, tmp_path / "c.ckpt", MODELS["animal-collapsed"](sim), progress=False)
    _assert_same_draws(whole, rest)


# ------------------------------------------------------------------ files that are not this run's checkpoint
@pytest.fixture(scope="module")
def written(sim, tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "run.ckpt"
    _quiet(MODELS["animal-collapsed"](sim).sample, draws=10, burn=5, chains=2, seed=1, progress=False, checkpoint=path)
    return path


def test_a_truncated_checkpoint_is_a_clear_error(sim, written, tmp_path):
    data = written.read_bytes()
    for size in (len(data) // 2, len(data) - 10, 100):
        path = tmp_path / f"cut{size}.ckpt"
        path.write_bytes(data[:size])
        with pytest.raises(CheckpointError, match="is truncated or corrupted"):
            bg.resume(path, MODELS["animal-collapsed"](sim))
    (tmp_path / "empty.ckpt").write_bytes(b"")
    with pytest.raises(CheckpointError, match="not a bayesgen checkpoint .*empty"):
        bg.resume(tmp_path / "empty.ckpt", MODELS["animal-collapsed"](sim))


def test_a_corrupted_or_doctored_checkpoint_is_a_clear_error(sim, written, tmp_path):
    # a byte flipped inside a stored array: the zip's CRC
    data = bytearray(written.read_bytes())
    offset = data.index(b"chain0/state/0/0") + 300
    data[offset] ^= 0xFF
    (tmp_path / "flipped.ckpt").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="truncated or corrupted|modified or corrupted"):
        bg.resume(tmp_path / "flipped.ckpt", MODELS["animal-collapsed"](sim))
    # re-written with one value changed (a valid archive): the SHA-256
    with np.load(written, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    name = next(n for n in arrays if n.startswith("chain0/draws/"))
    arrays[name] = arrays[name] + 1e-12
    with open(tmp_path / "doctored.ckpt", "wb") as file:
        np.savez(file, **arrays)
    with pytest.raises(CheckpointError, match="has been modified or corrupted"):
        bg.resume(tmp_path / "doctored.ckpt", MODELS["animal-collapsed"](sim))
    # the metadata edited (one more draw claimed)
    meta = json.loads(arrays["__meta__"].tobytes())
    meta["chains"][0]["n"] += 1
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    with open(tmp_path / "meta.ckpt", "wb") as file:
        np.savez(file, **arrays)
    with pytest.raises(CheckpointError, match="has been modified or corrupted"):
        bg.resume(tmp_path / "meta.ckpt", MODELS["animal-collapsed"](sim))
    # not a checkpoint at all
    (tmp_path / "text.ckpt").write_text("hello")
    with pytest.raises(CheckpointError, match="not a bayesgen checkpoint"):
        bg.resume(tmp_path / "text.ckpt", MODELS["animal-collapsed"](sim))
    with open(tmp_path / "other.npz", "wb") as file:
        np.savez(file, x=np.zeros(3))
    with pytest.raises(CheckpointError, match="not a bayesgen checkpoint .*no '__meta__' member"):
        bg.resume(tmp_path / "other.npz", MODELS["animal-collapsed"](sim))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        bg.resume(tmp_path / "missing.ckpt", MODELS["animal-collapsed"](sim))


def test_a_checkpoint_of_another_model_or_data_set_is_refused(sim, written):
    other_data = sim.phenotypes.copy()
    other_data.loc[other_data.index[3], "y"] += 0.001
    others = {
        "other data": bg.AnimalModel(other_data, "y", "id", sim.pedigree_object(), fixed=["sex"]),
        "other terms": bg.AnimalModel(sim.phenotypes, "y", "id", sim.pedigree_object()),
        "other prior": bg.AnimalModel(
            sim.phenotypes, "y", "id", sim.pedigree_object(), fixed=["sex"], prior=bg.ScaledInvChi2(4, 1.0)
        ),
        "other sampler": bg.AnimalModel(
            sim.phenotypes, "y", "id", sim.pedigree_object(), fixed=["sex"], sampler="single-site"
        ),
        "other model": bg.BayesCPi(sim.phenotypes, "y", "id", sim.genotypes),
    }
    for _what, model in others.items():
        with pytest.raises(CheckpointError, match="was written by another model or data set"):
            bg.resume(written, model, draws=5)


class _Planted:
    """Unpickling this object would create the file ``path`` (a stand-in for arbitrary code)."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def test_a_checkpoint_carrying_a_pickled_object_is_refused_not_executed(sim, written, tmp_path):
    sentinel = tmp_path / "executed"
    # a member that is a pickled object array, in an otherwise valid checkpoint
    with np.load(written, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["chain0/state/0/0"] = np.array([_Planted(sentinel)], dtype=object)
    with open(tmp_path / "object.ckpt", "wb") as file:
        np.savez(file, **arrays)  # np.savez pickles object arrays
    assert zipfile.is_zipfile(tmp_path / "object.ckpt")
    with pytest.raises(CheckpointError, match="holds a pickled object in member 'chain0/state/0/0'.*never unpickled"):
        bg.resume(tmp_path / "object.ckpt", MODELS["animal-collapsed"](sim))
    assert not sentinel.exists()
    # a plain pickle named like a checkpoint
    (tmp_path / "pickle.ckpt").write_bytes(pickle.dumps(_Planted(sentinel)))
    with pytest.raises(CheckpointError, match="is a Python pickle.*never unpickled"):
        bg.resume(tmp_path / "pickle.ckpt", MODELS["animal-collapsed"](sim))
    assert not sentinel.exists()
    # a pickled .npy inside the zip under the metadata's name
    arrays = {"__meta__": np.array([_Planted(sentinel)], dtype=object)}
    with open(tmp_path / "meta_object.ckpt", "wb") as file:
        np.savez(file, **arrays)
    with pytest.raises(CheckpointError, match="pickled object in member '__meta__'"):
        bg.resume(tmp_path / "meta_object.ckpt", MODELS["animal-collapsed"](sim))
    assert not sentinel.exists()


# ------------------------------------------------------------------ arguments
def test_checkpoint_arguments_are_checked_before_sampling(sim, tmp_path, written):
    model = MODELS["animal-collapsed"](sim)
    for every, error, match in [
        (0, ValueError, "checkpoint_every must be >= 1 iteration, got 0"),
        ("10 parsecs", ValueError, "checkpoint_every must be a number of iterations"),
        ("-5s", ValueError, "checkpoint_every must be a number of iterations"),
        (1.5, TypeError, "checkpoint_every must be an int .* got float 1.5"),
        (True, TypeError, "checkpoint_every must be an int"),
    ]:
        with pytest.raises(error, match=match):
            model.sample(draws=5, checkpoint=tmp_path / "a.ckpt", checkpoint_every=every, progress=False)
    with pytest.raises(ValueError, match="the directory .*nowhere.* does not exist"):
        model.sample(draws=5, checkpoint=tmp_path / "nowhere" / "a.ckpt", progress=False)
    with pytest.raises(ValueError, match="is a directory"):
        model.sample(draws=5, checkpoint=tmp_path, progress=False)
    with pytest.raises(ValueError, match="checkpoint_every needs checkpoint="):
        model.sample(draws=5, checkpoint_every=10, progress=False)
    with pytest.raises(TypeError, match="checkpoint must be a file path, got int"):
        model.sample(draws=5, checkpoint=3, progress=False)
    _quiet(model.sample, draws=5, burn=2, chains=1, progress=False)
    with pytest.raises(ValueError, match="checkpoint= with resume=True"):
        model.sample(draws=5, resume=True, checkpoint=tmp_path / "a.ckpt", progress=False)
    assert not (tmp_path / "a.ckpt").exists()
    with pytest.raises(ValueError, match="is complete \\(10 draws per chain\\): pass draws=n"):
        bg.resume(written, MODELS["animal-collapsed"](sim))
    with pytest.raises(ValueError, match="written from Python, not from a spec: pass the model"):
        bg.resume(written)
    with pytest.raises(ValueError, match="draws must be an integer >= 1, got 0"):
        bg.resume(written, MODELS["animal-collapsed"](sim), draws=0)
    assert ck.parse_interval("10min") == ("seconds", 600.0)
    assert ck.parse_interval("1.5h") == ("seconds", 5400.0)
    assert ck.parse_interval(None) == ("seconds", ck.DEFAULT_SECONDS)


def test_a_time_interval_writes_as_the_run_goes(sim, tmp_path, monkeypatch):
    """checkpoint_every="0.05s": each chain writes whenever 0.05 s have passed since its last write."""
    clock = iter(np.arange(0.0, 1e6, 0.02))
    monkeypatch.setattr(ck.time, "monotonic", lambda: next(clock))
    writer = ck.CheckpointWriter(tmp_path / "t.ckpt", "0.05s")
    _quiet(MODELS["animal-joint"](sim).sample, draws=20, burn=0, chains=1, progress=False, checkpoint=writer)
    # the start, one write every 3 iterations (3 ticks of 0.02 s), the end
    assert writer.writes == 2 + 20 // 3
    assert ck.read_checkpoint(tmp_path / "t.ckpt").meta["chains"][0]["n"] == 20


def test_a_block_state_that_is_not_arrays_must_be_declared_a_workspace(sim, tmp_path, monkeypatch):
    from bayesgen.sampler.joint import JointLocations

    monkeypatch.setattr(JointLocations, "workspace", ())
    with pytest.raises(TypeError, match="holds a SparseCholesky, which a checkpoint cannot hold .*workspace"):
        MODELS["animal-joint"](sim).sample(draws=5, chains=1, progress=False, checkpoint=tmp_path / "w.ckpt")


# ------------------------------------------------------------------ the command line
def test_cli_fit_with_checkpoint_then_resume(tmp_path, capsys):
    from bayesgen.cli.main import main

    spec = tmp_path / "animal.toml"
    spec.write_text(
        textwrap.dedent("""
        [data]
        simulate = { n_founders = 20, n_generations = 2, n_offspring = 50, n_markers = 0, seed = 3 }
        [model]
        type = "animal"
        trait = "y"
        id = "id"
        [sampler]
        chains = 2
        draws = 30
        burn = 10
        seed = 7
        [output]
        path = "out/animal.nc"
    """)
    )
    assert (
        main(
            ["fit", str(spec), "--no-progress", "--checkpoint", str(tmp_path / "run.ckpt"), "--checkpoint-every", "10"]
        )
        == 0
    )
    assert "Checkpoint written to" in capsys.readouterr().out
    assert (
        main(
            [
                "resume",
                str(tmp_path / "run.ckpt"),
                "--draws",
                "20",
                "--no-progress",
                "--output",
                str(tmp_path / "more.nc"),
            ]
        )
        == 0
    )
    assert main(["fit", str(spec), "--no-progress", "--draws", "50", "--output", str(tmp_path / "whole.nc")]) == 0
    import arviz as az

    more, whole = az.from_netcdf(tmp_path / "more.nc"), az.from_netcdf(tmp_path / "whole.nc")
    _assert_same_draws(whole, more, groups=("posterior",))
    capsys.readouterr()
    assert main(["resume", str(tmp_path / "run.ckpt"), "--no-progress"]) == 2
    assert "is complete (50 draws per chain)" in capsys.readouterr().err
    (tmp_path / "bad.ckpt").write_text("x")
    assert main(["resume", str(tmp_path / "bad.ckpt")]) == 2
    assert "not a bayesgen checkpoint" in capsys.readouterr().err
    assert main(["fit", str(spec), "--checkpoint-every", "5"]) == 2
    assert "--checkpoint-every needs --checkpoint" in capsys.readouterr().err


def test_restored_state_keeps_memory_order_and_python_number_types():
    """A restored chain repeats the uninterrupted one bit for bit only if its arrays keep their
    memory order (a matrix product sums in an order that depends on it) and its Python numbers
    stay Python numbers (np.int64(n) ** -0.6 differs from n ** -0.6 in the last bit for some n)."""
    from bayesgen.sampler.checkpoint import merge

    fortran = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    fresh = {"chol": np.zeros((2, 3)), "count": 0, "scale": 0.5, "fitted": False, "kept": np.zeros(3)}
    kept = fresh["kept"]
    out = merge(
        fresh,
        {
            "chol": fortran,
            "count": np.int64(7),
            "scale": np.float64(0.25),
            "fitted": np.bool_(True),
            "kept": np.ones(3),
        },
        "test",
    )
    assert out["chol"].flags.f_contiguous and not out["chol"].flags.c_contiguous
    np.testing.assert_array_equal(out["chol"], fortran)
    assert type(out["count"]) is int and out["count"] == 7
    assert type(out["scale"]) is float and out["scale"] == 0.25
    assert type(out["fitted"]) is bool and out["fitted"] is True
    assert out["kept"] is kept and np.all(kept == 1.0)  # same order: copied in place, references hold
    assert (11**-0.6) != (np.int64(11) ** -0.6)  # why the type matters
