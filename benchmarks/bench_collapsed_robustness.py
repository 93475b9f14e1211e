"""The collapsed variance step over many seeds: convergence, stuck chains, crashes, cost.

For each model and seed, one ``model.sample(draws, chains, seed=seed)`` with the default
burn-in, then per seed: the worst R-hat and the worst bulk ESS over every variance (each
element of a covariance matrix) and ``h2``, the longest stretch over which one chain repeated
one draw of the variances (rejected proposals), the acceptance rates and rejected
factorisations from ``sample_stats``, the wall time, ESS per second of ``h2``, and whether a
chain stopped on a numerical error. Then the distribution over seeds and how many seeds pass
the issue-15 criterion: every variance and h2 with R-hat <= 1.01 and bulk ESS >= 400
(``--ess-min``), and no chain repeating a draw more than 20 times in a row (``--repeat-max``).

Models (``--models``, comma-separated):

* ``gryphon4``: bwt ~ sex + animal + byear + mother (default priors);
* ``gryphon3``: bwt ~ sex + animal + byear;
* ``gryphon1``: bwt ~ 1 + animal;
* ``penicillin``: diameter ~ 1 + (1|plate) + (1|sample);
* ``gryphon4-mcmcglmm``: gryphon4 under MCMCglmm-style priors, ScaledInvChi2(0.002, 1) on
  each random-effect variance and the improper 1/sigma2_e (ScaledInvChi2(0, 0)) on the
  residual; run it with ``--draws 4000 --ess-min 1600`` (10% of 4 x 4,000);
* ``maternal``: bwt ~ sex + animal (direct + maternal, dam = mother) + mother (default
  settings; the crash reproducer of issue 15);
* ``crossed``: 17 records, y = 10 + N(0, 1), two crossed iid factors of 5 and 4 levels with
  no effect (the small crash reproducer); run it with ``--draws 20000 --burn 1000 --cores 1``.

Reference data from ../shared/data (skips with a message when absent). bayesgen is imported
from wherever Python finds it: run from a worktree with ``PYTHONPATH=.`` so that its
``bayesgen/`` is used (the header prints the path).

    PYTHONPATH=. python benchmarks/bench_collapsed_robustness.py --models gryphon4 --seeds 1-20

Measured (seeds 1-20 unless said, 2 shared cores at load 4-6; passing / worst bulk ESS / worst
R-hat / longest repeat), main before issue 15 -> now: gryphon4 0 / 7 / 1.597 / 137 -> 20 /
1,235 / 1.006 / 12; gryphon1 20 / 1,360 / 1.004 / 17 -> 20 / 2,465 / 1.003 / 8; penicillin 14 /
758 / 1.010 / 28 -> 20 / 2,181 / 1.004 / 8; gryphon3 at seeds 11, 22, 33, 44: 0 of 4 (worst ESS
38) -> 4 (2,364); gryphon4-mcmcglmm 4 x 4,000, seeds 1-2 on main: R-hat 2.68-2.82, ESS 5 ->
seeds 1-5: R-hat <= 1.001, ESS >= 5,756; maternal: died at seeds 11 and 22 -> 20 complete (19
pass); crossed: died at seed 2 of 1-3 -> 20 complete. README, "Location samplers".
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import bayesgen as bg

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def gryphon_frame():
    gry = pd.read_csv(DATA / "gryphon.csv")
    bwt = gry.dropna(subset=["bwt"]).reset_index(drop=True)
    return bwt.assign(sex=bwt["sex"].astype(str), byear=bwt["byear"].astype(str), mother=bwt["mother"].astype(str))


def gryphon_pedigree():
    return bg.Pedigree.from_csv(DATA / "gryphonped.csv", id="id", sire="father", dam="mother")


def crossed_frame(seed: int = 2015) -> pd.DataFrame:
    """17 records, y = 10 + N(0, 1), factors A (5 levels) and B (4 levels) crossed at random, no effect."""
    rng = np.random.default_rng(seed)
    a = np.concatenate([np.arange(5), rng.integers(0, 5, 12)])
    b = np.concatenate([np.arange(4), rng.integers(0, 4, 13)])
    return pd.DataFrame({"y": 10.0 + rng.standard_normal(17), "A": [f"a{k}" for k in a], "B": [f"b{k}" for k in b]})


def build(name: str):
    """The model called ``name`` (see the module docstring)."""
    if name == "penicillin":
        pen = pd.read_csv(DATA / "penicillin.csv")
        return bg.Model(pen, "diameter", [bg.Fixed(), bg.Random("plate"), bg.Random("sample")])
    if name == "crossed":
        return bg.Model(crossed_frame(), "y", [bg.Fixed([]), bg.Random("A"), bg.Random("B")])
    bwt, ped = gryphon_frame(), gryphon_pedigree()
    if name == "gryphon1":
        return bg.Model(bwt, "bwt", [bg.Fixed(), bg.Animal("animal", ped)])
    if name == "gryphon3":
        return bg.Model(bwt, "bwt", [bg.Fixed(["sex"]), bg.Animal("animal", ped), bg.Random("byear")])
    if name == "gryphon4":
        return bg.Model(
            bwt, "bwt", [bg.Fixed(["sex"]), bg.Animal("animal", ped), bg.Random("byear"), bg.Random("mother")]
        )
    if name == "gryphon4-mcmcglmm":

        def flat():
            return bg.ScaledInvChi2(0.002, 1.0)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the improper-prior warning of the random terms is expected
            return bg.Model(
                bwt,
                "bwt",
                [
                    bg.Fixed(["sex"]),
                    bg.Animal("animal", ped, prior=flat()),
                    bg.Random("byear", prior=flat()),
                    bg.Random("mother", prior=flat()),
                ],
                sigma2_e=bg.ScaledInvChi2(0.0, 0.0),
            )
    if name == "maternal":
        return bg.Model(
            bwt, "bwt", [bg.Fixed(["sex"]), bg.Animal("animal", ped, maternal="mother"), bg.Random("mother")]
        )
    raise ValueError(f"unknown model {name!r}")


def variance_series(idata) -> dict:
    """(chains x draws) arrays of every variance element, correlation and h2 in the posterior."""
    out = {}
    for name, var in idata.posterior.data_vars.items():
        if not (name.startswith(("sigma2_", "rho_")) or name == "h2"):
            continue
        values = var.transpose("chain", "draw", ...).values
        if values.ndim == 2:
            out[name] = values
        else:
            flat = values.reshape(values.shape[0], values.shape[1], -1)
            for j in range(flat.shape[2]):
                out[f"{name}[{j}]"] = flat[:, :, j]
    return out


def longest_repeat(values: np.ndarray) -> int:
    """Longest run of one draw repeated (identical consecutive values), over chains: 1 = never repeated."""
    worst = 1
    for chain in values:
        same = np.concatenate([[False], chain[1:] == chain[:-1]])
        run = best = 1
        for s in same[1:]:
            run = run + 1 if s else 1
            best = max(best, run)
        worst = max(worst, best)
    return worst


def one_run(model, seed: int, args) -> dict:
    import arviz as az

    start = time.perf_counter()
    cpu = time.process_time()
    row = {"seed": seed}
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            idata = model.sample(
                draws=args.draws,
                burn=args.burn,
                chains=args.chains,
                seed=seed,
                progress=False,
                cores=args.cores,
                check_convergence=False,
            )
    except Exception as err:  # noqa: BLE001 - the benchmark reports what made a run die
        row.update(error=f"{type(err).__name__}: {str(err)[:80]}", wall_s=time.perf_counter() - start)
        return row
    row["wall_s"] = time.perf_counter() - start
    row["cpu_s"] = time.process_time() - cpu
    failed = idata.posterior.attrs.get("failed_chains", "")
    row["failed"] = failed if failed else ""
    row["warnings"] = sum(1 for w in caught if "stopped" in str(w.message))
    series = variance_series(idata)
    rhat, ess = {}, {}
    for name, values in series.items():
        if np.all(values == values.flat[0]):
            continue
        rhat[name] = float(az.rhat(values, method="rank"))
        ess[name] = float(az.ess(values, method="bulk"))
    worst_ess = min(ess, key=ess.get)
    worst_rhat = max(rhat, key=rhat.get)
    row.update(
        draws=int(idata.posterior.sizes["draw"]),
        min_ess=ess[worst_ess],
        min_ess_of=worst_ess,
        max_rhat=rhat[worst_rhat],
        max_rhat_of=worst_rhat,
        repeat=max(longest_repeat(v) for k, v in series.items() if k.startswith("sigma2_")),
    )
    if "h2" in ess:
        row["h2_ess"] = ess["h2"]
        row["h2_ess_per_s"] = ess["h2"] / row["wall_s"]
        row["h2_ess_per_cpu_s"] = ess["h2"] / row["cpu_s"]
    stats = idata.sample_stats
    for name in stats.data_vars:
        if name.startswith("accept_variances"):
            row[name.replace("accept_variances_", "acc_")] = float(np.nanmean(stats[name].values))
        if name.startswith("rejected_factorisations"):
            row["rejected_fact"] = int(np.nansum(stats[name].values))
    row["ok"] = bool(
        row["max_rhat"] <= args.rhat_max
        and row["min_ess"] >= args.ess_min
        and row["repeat"] <= args.repeat_max
        and not row["failed"]
    )
    return row


def seeds_of(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        if "-" in part:
            lo, hi = part.split("-")
            out.extend(range(int(lo), int(hi) + 1))
        else:
            out.append(int(part))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="gryphon4")
    parser.add_argument("--seeds", default="1-20")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--burn", type=int, default=500)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--cores", type=int, default=None)
    parser.add_argument("--rhat-max", type=float, default=1.01)
    parser.add_argument("--ess-min", type=float, default=400)
    parser.add_argument("--repeat-max", type=int, default=20)
    parser.add_argument("--csv", default=None, help="also write the per-seed rows to this file")
    args = parser.parse_args(argv)
    if not (DATA / "README.md").exists():
        print(f"skipped: reference data not found at {DATA} (../shared is absent)")
        return 0
    print(
        f"# {platform.node()} {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, "
        f"bayesgen from {Path(bg.__file__).parent}"
    )
    print("# " + " ".join([Path(sys.argv[0]).name] + (argv if argv is not None else sys.argv[1:])))
    print(f"# load average at start: {os.getloadavg()[0]:.2f}")
    rows = []
    for name in args.models.split(","):
        model = build(name)
        model.sample(draws=5, burn=5, chains=1, seed=0, progress=False, check_convergence=False)  # compile
        for seed in seeds_of(args.seeds):
            row = {"model": name, **one_run(model, seed, args)}
            rows.append(row)
            shown = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()}
            print(" ".join(f"{k}={v}" for k, v in shown.items()), flush=True)
    table = pd.DataFrame(rows)
    if args.csv:
        table.to_csv(args.csv, index=False)
    print(f"# load average at end: {os.getloadavg()[0]:.2f}")
    for name, part in table.groupby("model", sort=False):
        crashed = part["error"].notna().sum() if "error" in part else 0
        done = part[part["error"].isna()] if "error" in part else part
        print(
            f"\n== {name}: {len(part)} seeds, {crashed} died, {int(done['ok'].sum()) if len(done) else 0} pass "
            f"(R-hat <= {args.rhat_max}, bulk ESS >= {args.ess_min:g}, repeat <= {args.repeat_max})"
        )
        if not len(done):
            continue
        columns = [
            c
            for c in (
                "min_ess",
                "max_rhat",
                "repeat",
                "h2_ess",
                "h2_ess_per_s",
                "h2_ess_per_cpu_s",
                "wall_s",
                "acc_rw",
                "acc_independent",
                "rejected_fact",
            )
            if c in done
        ]
        quantiles = done[columns].astype(float).quantile([0.0, 0.05, 0.25, 0.5, 0.75, 1.0])
        quantiles.index = ["min", "5%", "25%", "median", "75%", "max"]
        with pd.option_context("display.width", 200):
            print(quantiles.round(3).to_string())
        failing = done[~done["ok"].astype(bool)]
        if len(failing):
            print(
                "failing seeds: "
                + ", ".join(
                    f"{int(r.seed)} (ESS {r.min_ess:.0f} {r.min_ess_of}, R-hat {r.max_rhat:.3f}, repeat {int(r.repeat)})"
                    for r in failing.itertuples()
                )
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
