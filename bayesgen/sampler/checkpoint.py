"""Checkpoints on disk: every chain of a run (its state, its generator, its draws so far) in one file.

``Model.sample(checkpoint=path, checkpoint_every=...)`` writes the file while the chains run
and once more when they stop; ``bayesgen.resume(path, model)`` continues the run in a new
process, and its draws are those of one uninterrupted run of the same seed, bit for bit.

The model is NOT stored: it is rebuilt by the caller from the same data (the CLI rebuilds it
from the spec whose path the checkpoint records), and a fingerprint (SHA-256 of the model's
description, priors, records and every term's bound arrays: designs, precisions, genotype
codes; ``model_fingerprint``) must match, so a checkpoint of another model or data set is refused
with a clear error before anything runs.

Format: one ``.npz`` archive (an uncompressed zip of ``.npy`` members), loaded with
``allow_pickle=False``: loading never executes code, and an object (pickled) member is refused.
The member ``__meta__`` holds UTF-8 JSON: the format and its version, the fingerprint, the run
(draws, burn, thin, chains, seed entropy, what is stored), and per chain its generator's state
(PCG64's ``bit_generator.state``: plain integers), the iterations it has run, its draws, and the
*schema* of its state: the nesting of dicts, lists and tuples, with each leaf an array member,
a float (a 0-d member), an int, a bool, None or a string. A SHA-256 of the metadata and of every
member (name, dtype, shape, bytes) is checked on load: a truncated, corrupted or edited file is
an error, not a silent change of the chains (a check of integrity, not a signature).

What is saved of a chain: the terms' state dicts, every block's state dict except the keys its
class declares in ``workspace`` (factor copies; rebuilt by ``rebuild_workspace``), the residual
and the iteration counter. The residual is saved, not recomputed: the chains update it in
place, and a fresh one differs in the last bits.

Writes are atomic: the archive is written to a temporary file in the same directory, flushed
and fsynced, then renamed over the old one (``os.replace``), so a job killed at any moment
leaves the previous checkpoint or the new one, never a mix. Each chain writes the file when its
interval is up, before its next iteration (synchronously), so a killed job loses at most one
interval of each chain.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import tempfile
import threading
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FORMAT = "bayesgen-checkpoint"
VERSION = 1
META = "__meta__"
#: ``checkpoint_every`` when not given: seconds between writes of each chain.
DEFAULT_SECONDS = 300.0
_ZIP_MAGIC = b"PK\x03\x04"
_UNITS = {
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "min": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
}


class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed: not a checkpoint, truncated, edited, pickled, or of another model."""


# ---------------------------------------------------------------------- the interval
def parse_interval(value) -> tuple[str, float]:
    """``checkpoint_every`` as ("iterations", n) or ("seconds", s).

    An int is iterations of each chain (burn-in included); a string with a unit ("90s",
    "10min", "2h") or a ``datetime.timedelta`` is wall-clock time; None is 300 seconds."""
    if value is None:
        return "seconds", DEFAULT_SECONDS
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        if value < 1:
            raise ValueError(f"checkpoint_every must be >= 1 iteration, got {value!r}.")
        return "iterations", int(value)
    if isinstance(value, datetime.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*([a-z]+)\s*", value.lower())
        if match is None or match.group(2) not in _UNITS:
            raise ValueError(
                f"checkpoint_every must be a number of iterations (int), a time such as '90s', "
                f"'10min' or '2h', or a datetime.timedelta; got {value!r}."
            )
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    else:
        raise TypeError(
            f"checkpoint_every must be an int (iterations), a string such as '10min' or a "
            f"datetime.timedelta, got {type(value).__name__} {value!r}."
        )
    if not seconds > 0:
        raise ValueError(f"checkpoint_every must be a positive time, got {value!r}.")
    return "seconds", float(seconds)


# ---------------------------------------------------------------------- nested values <-> arrays
def flatten(value, name: str, arrays: dict):
    """The schema of ``value`` (JSON-able); its arrays (copied) go into ``arrays`` under names from ``name``."""
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise TypeError(f"chain state {name!r} is an object array, which a checkpoint cannot hold.")
        arrays[name] = np.array(value, copy=True, order="K")  # keeps Fortran order
        return {"array": name}
    if isinstance(value, (bool, np.bool_)) and not isinstance(value, np.generic):
        return {"bool": bool(value)}
    if isinstance(value, np.generic):
        arrays[name] = np.asarray(value)
        return {"scalar": name}
    if isinstance(value, int):
        return {"int": int(value)}
    if isinstance(value, float):
        arrays[name] = np.asarray(value, dtype=np.float64)
        return {"float": name}
    if value is None:
        return {"none": None}
    if isinstance(value, str):
        return {"str": value}
    if isinstance(value, dict):
        items = []
        for i, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError(f"chain state {name!r} has a non-string key {key!r}.")
            items.append([key, flatten(item, f"{name}/{i}", arrays)])
        return {"dict": items}
    if isinstance(value, (list, tuple)):
        kind = "list" if isinstance(value, list) else "tuple"
        return {kind: [flatten(item, f"{name}/{i}", arrays) for i, item in enumerate(value)]}
    raise TypeError(
        f"chain state {name!r} holds a {type(value).__name__}, which a checkpoint cannot hold "
        "(declare it in its block's `workspace` if it is a workspace)."
    )


def unflatten(schema, arrays: dict):
    """The value a schema describes, from the loaded arrays (a checkpoint error if malformed)."""
    if not isinstance(schema, dict) or len(schema) != 1:
        raise CheckpointError(f"malformed state schema entry {str(schema)[:80]!r}.")
    ((kind, content),) = schema.items()
    if kind in ("array", "scalar", "float"):
        if content not in arrays:
            raise CheckpointError(f"the member {content!r} the state refers to is missing.")
        array = arrays[content]
        if kind == "array":
            return array
        if array.ndim != 0:
            raise CheckpointError(f"member {content!r} should be a scalar, has shape {array.shape}.")
        return float(array) if kind == "float" else array[()]
    if kind == "bool" and isinstance(content, bool):
        return content
    if kind == "int" and isinstance(content, int) and not isinstance(content, bool):
        return content
    if kind == "none" and content is None:
        return None
    if kind == "str" and isinstance(content, str):
        return content
    if kind == "dict" and isinstance(content, list):
        return {key: unflatten(item, arrays) for key, item in content}
    if kind in ("list", "tuple") and isinstance(content, list):
        items = [unflatten(item, arrays) for item in content]
        return items if kind == "list" else tuple(items)
    raise CheckpointError(f"malformed state schema entry {str(schema)[:80]!r}.")


def merge(fresh, saved, where: str, keep=()):
    """``saved`` put into a freshly initialised structure: arrays copied into the fresh arrays in
    place (so that references the initialisation set up between them hold), dicts merged key by
    key (keys in ``keep``, workspaces, stay fresh; other keys not saved are dropped); anything else
    is the saved value."""
    if isinstance(fresh, np.ndarray) and isinstance(saved, np.ndarray):
        if fresh.shape != saved.shape or fresh.dtype != saved.dtype:
            raise CheckpointError(
                f"{where}: the checkpoint holds {saved.dtype}{list(saved.shape)}, the model "
                f"{fresh.dtype}{list(fresh.shape)}: another model."
            )
        if (fresh.flags.c_contiguous, fresh.flags.f_contiguous) != (saved.flags.c_contiguous, saved.flags.f_contiguous):
            # The run replaced this array by one of another memory order (scipy returns Fortran
            # order). A matrix product sums in an order that depends on it, so the restored chain
            # keeps the saved order, or it would drift from the uninterrupted one in the last bit.
            return np.array(saved, copy=True, order="K")
        np.copyto(fresh, saved)
        return fresh
    if isinstance(fresh, dict) and isinstance(saved, dict):
        for key in [k for k in fresh if k not in saved and k not in keep]:
            del fresh[key]
        for key, value in saved.items():
            fresh[key] = merge(fresh.get(key), value, f"{where}[{key!r}]")
        return fresh
    if isinstance(fresh, list) and isinstance(saved, list) and len(fresh) == len(saved):
        for i, value in enumerate(saved):
            fresh[i] = merge(fresh[i], value, f"{where}[{i}]")
        return fresh
    if type(fresh) in (bool, int, float) and isinstance(saved, (np.generic, np.ndarray)) and np.ndim(saved) == 0:
        # A Python number comes back as the same Python type, not a NumPy scalar, whose arithmetic
        # can round differently (np.int64(n) ** -0.6 differs from n ** -0.6 in the last bit for
        # some n), which would make a resumed chain's adaptation drift from the uninterrupted one.
        value = np.asarray(saved).item()
        if type(value) is type(fresh):
            return value
    return saved


# ---------------------------------------------------------------------- the model's fingerprint
def _hash_array(h, array) -> None:
    import scipy.sparse as sp

    if sp.issparse(array):
        csr = sp.csr_matrix(array)
        h.update(f"sparse{csr.shape}{csr.dtype.str}".encode())
        for part in (csr.data, csr.indices, csr.indptr):
            _hash_array(h, part)
        return
    array = np.ascontiguousarray(array)
    h.update(f"{array.dtype.str}{array.shape}".encode())
    h.update(array.reshape(-1).view(np.uint8))


def model_fingerprint(model) -> str:
    """SHA-256 of what a chain's draws depend on: the model's description and priors, its
    records (the data frame, its index and columns, the phenotypes) and every term's bound
    arrays (``Term.data_arrays``)."""
    import pandas as pd

    h = hashlib.sha256()
    description = {
        "model": model.describe(),
        "priors": [t.priors() for t in model.terms],
        "traits": model.traits,
        "columns": [str(c) for c in model.data.columns],
        "index": [str(i) for i in model.data.index],
    }
    h.update(json.dumps(description, sort_keys=True, default=str).encode())
    try:
        rows = pd.util.hash_pandas_object(model.data, index=True).to_numpy()
    except TypeError:  # unhashable cells (lists): their text
        rows = np.frombuffer(model.data.to_csv().encode(), dtype=np.uint8)
    _hash_array(h, rows)
    _hash_array(h, np.asarray(model.y))
    _hash_array(h, np.asarray(model._observed_matrix))
    for term in model.terms:
        for array in term.data_arrays():
            _hash_array(h, array)
    return h.hexdigest()


def _digest(meta: dict, arrays: dict) -> str:
    h = hashlib.sha256(json.dumps(meta, sort_keys=True).encode())
    for name in sorted(arrays):
        h.update(name.encode())
        _hash_array(h, arrays[name])
    return h.hexdigest()


# ---------------------------------------------------------------------- writing
@dataclass
class _Snapshot:
    meta: dict  # the chain's entry of __meta__["chains"]
    arrays: dict  # its state arrays and summaries (copies)
    storage: object  # its ChainStorage: draws [:n] are read at write time (rows < n never change)


class CheckpointWriter:
    """Writes a run's checkpoint (``Model.sample(checkpoint=...)``; module docstring).

    ``origin``: how to rebuild the model, kept in the file (the CLI records its spec path and
    overrides); None for a model built in Python (``bayesgen.resume`` then needs the model).
    """

    def __init__(self, path, every=None, origin: dict | None = None):
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"checkpoint must be a file path, got {type(path).__name__} {path!r}.")
        self.path = Path(path)
        if self.path.is_dir():
            raise ValueError(f"checkpoint {str(self.path)!r} is a directory; give a file path such as 'run.ckpt'.")
        directory = self.path.parent if str(self.path.parent) else Path(".")
        if not directory.is_dir():
            raise ValueError(f"checkpoint {str(self.path)!r}: the directory {str(directory)!r} does not exist.")
        if not os.access(directory, os.W_OK):
            raise ValueError(f"checkpoint {str(self.path)!r}: the directory {str(directory)!r} is not writable.")
        self.every = parse_interval(every)
        self.origin = origin
        self._lock = threading.Lock()
        self._snapshots: dict = {}
        self._last: list = []
        self.run: dict | None = None
        self.fingerprint: str | None = None
        self.model_repr = ""
        self.writes = 0

    def start(self, model, run: dict) -> None:
        """Bind to the run about to start (``run``: draws, burn, thin, chains, seed entropy, store)."""
        self.fingerprint = model_fingerprint(model)
        self.model_repr = repr(model)
        self.run = dict(run, every=list(self.every))
        self._last = [time.monotonic()] * run["chains"]
        self._snapshots = {}

    def due(self, index: int, done: int) -> bool:
        kind, every = self.every
        if kind == "iterations":
            return done % every == 0
        return time.monotonic() - self._last[index] >= every

    def snapshot(self, index: int, chain, rng, storage, done: int, burn: int, blocks) -> None:
        """Copy chain ``index``'s state now (``done`` iterations of its schedule run)."""
        arrays: dict = {}
        value = {
            "states": chain.states,
            "blocks": [{k: v for k, v in s.items() if k not in b.workspace} for b, s in zip(blocks, chain.blocks)],
            "resid": chain.ctx.resid,
            "iteration": chain.ctx.iteration,
            "tuning": chain.ctx.tuning,
        }
        schema = flatten(value, f"chain{index}/state", arrays)
        summaries = []
        for i, (key, moments) in enumerate(storage.summaries.items()):
            prefix = f"chain{index}/summary/{i}"
            arrays[f"{prefix}/mean"] = moments.mean.copy()
            arrays[f"{prefix}/m2"] = moments._m2.copy()
            if moments.nonzero is not None:
                arrays[f"{prefix}/nonzero"] = moments.nonzero.copy()
            summaries.append({"key": list(key), "count": moments.count, "nonzero": moments.nonzero is not None})
        generator = rng.bit_generator
        meta = {
            "schema": schema,
            "rng": _plain(generator.state),
            "done": int(done),
            "burn": int(burn),
            "n": int(storage.n),
            "draws": [list(key) for key in storage.draws],
            "summaries": summaries,
        }
        with self._lock:
            self._snapshots[index] = _Snapshot(meta, arrays, storage)
            self._last[index] = time.monotonic()

    def save(self) -> None:
        """Write every chain's latest snapshot, atomically."""
        with self._lock:
            arrays: dict = {}
            chains = []
            for index in sorted(self._snapshots):
                snap = self._snapshots[index]
                arrays.update(snap.arrays)
                n = snap.meta["n"]
                for i, key in enumerate(snap.storage.draws):
                    arrays[f"chain{index}/draws/{i}"] = snap.storage.draws[key][:n]
                chains.append(dict(snap.meta, index=index))
            meta = {
                "format": FORMAT,
                "version": VERSION,
                "library_version": _library_version(),
                "fingerprint": self.fingerprint,
                "model": self.model_repr,
                "origin": self.origin,
                "run": self.run,
                "chains": chains,
            }
            meta["sha256"] = _digest(meta, arrays)
            arrays[META] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
            _atomic_savez(self.path, arrays)
            self.writes += 1

    def after_iteration(self, index, done, chain, rng, storage, burn, blocks) -> None:
        """Called by a chain after each iteration: snapshot and write when its interval is up."""
        if self.due(index, done):
            self.snapshot(index, chain, rng, storage, done, burn, blocks)
            self.save()


def _plain(value):
    """A generator's state with NumPy integers as Python ints (JSON)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, np.integer):
        return int(value)
    return value


def _library_version() -> str:
    from .._version import __version__

    return __version__


def _atomic_savez(path: Path, arrays: dict) -> None:
    directory = path.parent if str(path.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    try:  # the rename itself durable
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------------- reading
@dataclass
class Checkpoint:
    path: Path
    meta: dict
    arrays: dict

    @property
    def run(self) -> dict:
        return self.meta["run"]


def read_checkpoint(path) -> Checkpoint:
    """Load and verify a checkpoint file (never unpickles; errors say what is wrong with it)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"checkpoint must be a file path, got {type(path).__name__} {path!r}.")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {str(path)!r} does not exist.")
    with open(path, "rb") as file:
        head = file.read(4)
    if head != _ZIP_MAGIC:
        if head[:1] == b"\x80":
            raise CheckpointError(
                f"{str(path)!r} is a Python pickle, not a bayesgen checkpoint: it is refused, "
                "never unpickled (loading a checkpoint never executes code)."
            )
        raise CheckpointError(
            f"{str(path)!r} is not a bayesgen checkpoint (not an .npz archive"
            + ("; the file is empty)." if not head else ").")
        )
    arrays = {}
    try:
        with open(path, "rb") as file, np.load(file, allow_pickle=False) as archive:
            if META not in archive.files:
                raise CheckpointError(
                    f"{str(path)!r} is an .npz archive but not a bayesgen checkpoint (no {META!r} member)."
                )
            for name in archive.files:
                try:
                    arrays[name] = archive[name]
                except ValueError as err:
                    if "pickle" in str(err).lower() or "object arrays" in str(err).lower():
                        raise CheckpointError(
                            f"{str(path)!r} holds a pickled object in member {name!r}: it is refused, never "
                            "unpickled (loading a checkpoint never executes code)."
                        ) from err
                    raise
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError, zlib.error) as err:
        raise CheckpointError(
            f"{str(path)!r} is truncated or corrupted and cannot be read ({type(err).__name__}: {err})."
        ) from err
    try:
        meta = json.loads(arrays.pop(META).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{str(path)!r} is corrupted: its metadata is not JSON ({err}).") from err
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{str(path)!r} is not a bayesgen checkpoint (format {meta.get('format')!r}).")
    if meta.get("version") != VERSION:
        raise CheckpointError(
            f"{str(path)!r} is a checkpoint of format version {meta.get('version')!r}; this "
            f"bayesgen ({_library_version()}) reads version {VERSION}."
        )
    stored = meta.pop("sha256", None)
    if stored != _digest(meta, arrays):
        raise CheckpointError(
            f"{str(path)!r} has been modified or corrupted: its content does not match the SHA-256 written with it."
        )
    return Checkpoint(path, meta, arrays)


def check_model(checkpoint: Checkpoint, model) -> None:
    """A checkpoint error unless ``model`` is the model (and data) the checkpoint was written by."""
    if model_fingerprint(model) != checkpoint.meta["fingerprint"]:
        raise CheckpointError(
            f"{str(checkpoint.path)!r} was written by another model or data set: it holds the chains of "
            f"{checkpoint.meta.get('model')}, and the model given, {model!r}, differs from it (in its terms, priors, "
            "data or options). Rebuild the model exactly as for the run that wrote the checkpoint."
        )


@dataclass
class RestoredChain:
    chain: object  # ChainState
    rng: np.random.Generator
    storage: object  # ChainStorage sized for the continued run, holding the draws so far
    done: int  # iterations of the chain's schedule already run
    burn: int  # the chain's burn-in


def restore_chains(checkpoint: Checkpoint, model, gibbs, draws: int, store) -> list[RestoredChain]:
    """Every chain of ``checkpoint`` as it was, in storages for ``draws`` draws per chain."""
    from .storage import ChainStorage

    arrays = checkpoint.arrays
    variables = model.variables()
    out = []
    for entry in checkpoint.meta["chains"]:
        index = entry["index"]
        where = f"{str(checkpoint.path)!r} chain {index}"
        chain = gibbs.init(np.random.default_rng(0))  # fresh arrays and workspaces, overwritten below
        saved = unflatten(entry["schema"], arrays)
        if len(saved["states"]) != len(chain.states) or len(saved["blocks"]) != len(chain.blocks):
            raise CheckpointError(
                f"{where}: the saved state has {len(saved['states'])} terms and "
                f"{len(saved['blocks'])} blocks, the model {len(chain.states)} and "
                f"{len(chain.blocks)}: another model."
            )
        for k, (fresh, state) in enumerate(zip(chain.states, saved["states"])):
            merge(fresh, state, f"{where} term {model.terms[k].name!r}")
        merge(chain.ctx.resid, saved["resid"], f"{where} residual")
        chain.ctx.iteration, chain.ctx.tuning = saved["iteration"], saved["tuning"]
        for block, fresh, state in zip(model.blocks, chain.blocks, saved["blocks"]):
            merge(fresh, state, f"{where} block {block.describe()}", keep=block.workspace)
            block.rebuild_workspace(fresh, chain.states)
        rng_state = entry["rng"]
        if rng_state.get("bit_generator") != "PCG64":
            raise CheckpointError(f"{where}: generator {rng_state.get('bit_generator')!r}, expected 'PCG64'.")
        rng = np.random.Generator(np.random.PCG64())
        rng.bit_generator.state = rng_state
        storage = ChainStorage(variables, draws, store)
        n = entry["n"]
        if n > draws:
            raise CheckpointError(f"{where} holds {n} draws, more than the {draws} asked for.")
        keys = [tuple(k) for k in entry["draws"]]
        if keys != list(storage.draws) or [tuple(s["key"]) for s in entry["summaries"]] != list(storage.summaries):
            raise CheckpointError(f"{where}: its recorded variables differ from the model's: another model.")
        for i, key in enumerate(keys):
            stored = arrays[f"chain{index}/draws/{i}"]
            if stored.shape != (n, *storage.draws[key].shape[1:]):
                raise CheckpointError(
                    f"{where}: draws of {key[1]!r} have shape {stored.shape}, expected "
                    f"{(n, *storage.draws[key].shape[1:])}."
                )
            storage.draws[key][:n] = stored
        for i, (entry_summary, moments) in enumerate(zip(entry["summaries"], storage.summaries.values())):
            prefix = f"chain{index}/summary/{i}"
            moments.count = int(entry_summary["count"])
            merge(moments.mean, arrays[f"{prefix}/mean"], f"{where} summary")
            merge(moments._m2, arrays[f"{prefix}/m2"], f"{where} summary")
            if moments.nonzero is not None:
                merge(moments.nonzero, arrays[f"{prefix}/nonzero"], f"{where} summary")
        storage.n = n
        out.append(RestoredChain(chain, rng, storage, int(entry["done"]), int(entry["burn"])))
    if [e["index"] for e in checkpoint.meta["chains"]] != list(range(checkpoint.run["chains"])):
        raise CheckpointError(
            f"{str(checkpoint.path)!r} holds chains {[e['index'] for e in checkpoint.meta['chains']]}"
            f" of a run of {checkpoint.run['chains']}."
        )
    return out


def store_of(run: dict):
    """The run's ``store`` as ``ChainStorage`` takes it."""
    store = run["store"]
    return frozenset(tuple(k) for k in store) if isinstance(store, list) else store


def store_to_json(store):
    if isinstance(store, (set, frozenset)):
        return sorted(list(k) for k in store)
    return store
