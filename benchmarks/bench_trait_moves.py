"""Each threshold trait's scale and marginal group moves among several traits: ESS per draw and per second.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_trait_moves.py [--seeds 1,2,3] [--samplers single-site,joint]
                                                                [--draws 2000] [--burn 1000]
                                                                [--missing 0.2]

The data of ``examples/two_diseases.py`` (1,200 records, two diseases with liability h² 0.3 and
genetic correlation 0.5). For each sampler and seed, 4 chains one after another on one core with
``family=[bg.Threshold(scale_move=m, marginal_moves=m)] * 2``, m on and off, the same seed: bulk
ESS of each h² and of the genetic correlation, the worst R-hat, CPU seconds (user + system), and
per pair of runs the ESS-per-second ratio (moves on over off). The load average is printed.
``--missing f``: each disease unrecorded on a random fraction f of the records (disjoint sets), so
that records miss one trait and the moves run with the missing traits integrated out.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import arviz as az
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples"))
from two_diseases import two_diseases  # noqa: E402

import bayesgen as bg  # noqa: E402


def run(data, sim, sampler: str, moves: bool, seed: int, draws: int, burn: int) -> dict:
    family = [bg.Threshold(scale_move=moves, marginal_moves=moves) for _ in range(2)]
    model = bg.Model(
        data,
        ["disease1", "disease2"],
        [bg.Fixed(), bg.Animal("id", sim.pedigree_object())],
        family=family,
        sampler=sampler,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.process_time()
        idata = model.sample(
            draws=draws, burn=burn, chains=4, cores=1, seed=seed, progress=False, check_convergence=False
        )
        seconds = time.process_time() - start
    post = idata.posterior
    quantities = {
        "h2[disease1]": post["h2"].values[..., 0],
        "h2[disease2]": post["h2"].values[..., 1],
        "rho_animal": post["rho_animal"].values[..., 0, 1],
    }
    return {
        "seconds": seconds,
        "ess": {name: float(az.ess(values)) for name, values in quantities.items()},
        "rhat": max(float(az.rhat(values)) for values in quantities.values()),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--samplers", default="single-site")
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--burn", type=int, default=1000)
    parser.add_argument("--missing", type=float, default=0.0, help="fraction of records missing each disease")
    args = parser.parse_args(argv)
    data, sim = two_diseases()
    if args.missing > 0.0:
        data = data.copy()
        order = np.random.default_rng(0).permutation(len(data))
        k = int(round(args.missing * len(data)))
        data.iloc[order[:k], data.columns.get_loc("disease1")] = np.nan
        data.iloc[order[k : 2 * k], data.columns.get_loc("disease2")] = np.nan
        print(f"each disease missing on {k} of {len(data)} records")
    print(f"load average {open('/proc/loadavg').read().split()[0] if Path('/proc/loadavg').exists() else '?'}")
    for sampler in args.samplers.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            on = run(data, sim, sampler, True, seed, args.draws, args.burn)
            off = run(data, sim, sampler, False, seed, args.draws, args.burn)
            for label, result in (("moves on ", on), ("moves off", off)):
                ess = "  ".join(f"{name} {value:6.0f}" for name, value in result["ess"].items())
                print(
                    f"{sampler:11s} seed {seed} {label}: {result['seconds']:6.1f} s CPU  ESS of "
                    f"{4 * args.draws}: {ess}  max R-hat {result['rhat']:.3f}"
                )
            ratios = "  ".join(
                f"{name} {(on['ess'][name] / on['seconds']) / (off['ess'][name] / off['seconds']):.2f}"
                for name in on["ess"]
            )
            per_draw = "  ".join(f"{name} {on['ess'][name] / off['ess'][name]:.2f}" for name in on["ess"])
            print(f"{'':11s} seed {seed} on / off: ESS per draw {per_draw}; ESS per second {ratios}")
    print(f"load average {open('/proc/loadavg').read().split()[0] if Path('/proc/loadavg').exists() else '?'}")


if __name__ == "__main__":
    main()
