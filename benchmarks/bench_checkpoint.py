"""What checkpoints cost: file size, time per write, and sampling with and without them.

Run:  python benchmarks/bench_checkpoint.py [--draws 2000] [--every 100]

The quickstart, ``models/animal.toml`` (1,100 animals, collapsed sampler, full draws of ``u``,
the pointwise log-likelihood and the replicated phenotypes), 4 chains x ``draws`` after 500
burn-in on 2 cores, sampled once without a checkpoint and once with ``checkpoint_every``
iterations, interleaved over ``--rounds`` rounds; then ``bg.resume`` of the final file with
10 more draws (load, restore, run). Prints the ratio of the wall times measured in the same
round and the load average (the machine is shared). Files go to a temporary folder.
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

import bayesgen as bg
from bayesgen.cli.spec import load_spec
from bayesgen.sampler import checkpoint as ck

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--every", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    spec = load_spec(ROOT / "models" / "animal.toml")
    options = dict(draws=args.draws, burn=500, chains=4, seed=1, progress=False, check_convergence=False, store="full")
    print(
        f"{spec.model}; 4 chains x {args.draws} draws after 500 burn-in, store='full', "
        f"checkpoint every {args.every} iterations of each chain"
    )
    print(f"load average at start: {os.getloadavg()}")
    writes = []
    save = ck.CheckpointWriter.save

    def timed_save(self):
        started = time.perf_counter()
        save(self)
        writes.append(time.perf_counter() - started)

    ck.CheckpointWriter.save = timed_save
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "run.ckpt"
        for r in range(args.rounds):
            started = time.perf_counter()
            spec.model.sample(**options)
            plain = time.perf_counter() - started
            writes.clear()
            started = time.perf_counter()
            spec.model.sample(checkpoint=path, checkpoint_every=args.every, **options)
            with_checkpoints = time.perf_counter() - started
            print(
                f"round {r}: without {plain:.1f} s, with {with_checkpoints:.1f} s (ratio "
                f"{with_checkpoints / plain:.3f}); {len(writes)} writes, mean {1e3 * sum(writes) / len(writes):.0f} ms, "
                f"last {1e3 * writes[-1]:.0f} ms; final file {path.stat().st_size / 1e6:.1f} MB; "
                f"load {os.getloadavg()[0]:.1f}"
            )
        started = time.perf_counter()
        bg.resume(path, spec.model, draws=10, progress=False, check_convergence=False)
        print(
            f"bg.resume(..., draws=10): {time.perf_counter() - started:.1f} s (read, verify, restore, 40 "
            f"iterations, write)"
        )
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
