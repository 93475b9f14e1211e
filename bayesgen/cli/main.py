"""The ``bayesgen`` command: ``bayesgen fit SPEC`` runs a declarative model spec (with
``--checkpoint FILE``, writing the run to FILE as it goes); ``bayesgen resume FILE`` continues
such a run, in a new process, rebuilding the model from the spec the checkpoint names;
``bayesgen simulate SPEC --plink PREFIX`` writes the data its ``data.simulate`` makes;
``bayesgen reml SPEC`` and ``bayesgen gwas SPEC`` run REML and a mixed-model association scan
(``bayesgen.cli.classical``).

Exit codes: 0 success; 2 bad spec or arguments (nothing sampled); 130 interrupted (Ctrl-C;
the draws kept so far are written when there are any); 1 unexpected error (a traceback).
"""

from __future__ import annotations

import argparse
import sys
import traceback

from .._version import __version__
from .spec import SpecError, load_spec

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_BAD_INPUT = 2  # also what argparse uses for bad arguments
EXIT_INTERRUPTED = 130  # 128 + SIGINT, the shell convention


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bayesgen", description="Bayesian genomic prediction by Gibbs sampling.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    fit = sub.add_parser("fit", help="fit a model spec (models/*.toml) and write the InferenceData")
    fit.add_argument("spec", help="path to a TOML model spec")
    fit.add_argument("--draws", type=int, help="override [sampler] draws")
    fit.add_argument("--burn", type=int, help="override [sampler] burn")
    fit.add_argument("--thin", type=int, help="override [sampler] thin")
    fit.add_argument("--chains", type=int, help="override [sampler] chains")
    fit.add_argument("--seed", type=int, help="override [sampler] seed")
    fit.add_argument("--output", help="override [output] path (netCDF, *.nc)")
    fit.add_argument("--no-progress", action="store_true", help="no progress bar")
    fit.add_argument(
        "--sensitivity",
        action="store_true",
        help="print the power-scaling prior/likelihood sensitivity of each scalar parameter",
    )
    fit.add_argument(
        "--store",
        choices=("auto", "full", "summary"),
        help="override [sampler] store: full draws of per-animal/marker/record vectors, or only their "
        "running mean and sd (summary); auto = full while chains x draws x values <= 25 million",
    )
    fit.add_argument(
        "--checkpoint",
        metavar="FILE",
        help="write every chain's state and draws to FILE as the run goes (continue it with `bayesgen resume FILE`)",
    )
    fit.add_argument(
        "--checkpoint-every",
        metavar="N|TIME",
        help="write the checkpoint every N iterations of each chain, or every TIME (e.g. 90s, 10min, 2h); default 5min",
    )
    resume = sub.add_parser("resume", help="continue a run from its checkpoint (bayesgen fit --checkpoint)")
    resume.add_argument("checkpoint", help="the checkpoint file")
    resume.add_argument(
        "--draws", type=int, help="draws per chain to add to those the run planned (default: finish the planned ones)"
    )
    resume.add_argument("--output", help="override the output path of the run (netCDF, *.nc)")
    resume.add_argument("--checkpoint-every", metavar="N|TIME", help="as for fit (default: the run's own)")
    resume.add_argument("--no-progress", action="store_true", help="no progress bar")
    resume.add_argument("--sensitivity", action="store_true", help="as for fit")
    simulate = sub.add_parser("simulate", help="write the data of a spec's data.simulate as PLINK and CSV files")
    simulate.add_argument("spec", help="path to a TOML model spec with a data.simulate table")
    simulate.add_argument(
        "--plink",
        required=True,
        metavar="PREFIX",
        help="write PREFIX.bed/.bim/.fam (genotypes), PREFIX.phen.csv and PREFIX.ped.csv",
    )
    from .classical import add_parsers

    add_parsers(sub)
    return parser


#: Draws per chain below which ESS, R-hat and the MCSE are undefined.
MIN_SUMMARY_DRAWS = 4


def _apply_store(spec, store) -> None:
    """``--store`` (else [sampler] store) into ``spec.sampler``, with "auto" resolved by the
    budget rule of ``bayesgen.output.choose_store``; the chosen mode is printed."""
    import inspect

    from ..model.model import DEFAULT_CHAINS
    from ..output import high_dimensional_values, resolve_store

    store = store or spec.sampler.get("store")
    if store is None:
        return
    defaults = {k: p.default for k, p in inspect.signature(spec.model.sample).parameters.items()}
    defaults["chains"] = DEFAULT_CHAINS  # sample()'s None
    draws, chains = (spec.sampler.get(k, defaults[k]) for k in ("draws", "chains"))
    values = high_dimensional_values(spec.model.variables())
    spec.sampler["store"] = resolve_store(store, values, draws, chains)
    if store == "auto":
        print(
            f"store = 'auto': {chains} chains x {draws} draws x {values} values of per-animal/marker/record "
            f"vectors = {chains * draws * values:,} -> {spec.sampler['store']!r}",
            flush=True,
        )


def true_values(truth: dict, parameters, model) -> tuple[list, str]:
    """Per summary row, the simulation's value of that parameter as text ("" when it has none),
    and a note saying what the values are.

    ``Simulation`` draws y = mean + sex_effect [female] + a + e, so a ``Fixed(["sex"])`` term
    (treatment coding, reference level "F") has true intercept mean + sex_effect and true
    ``sex[M]`` -sex_effect. A marker term's ``var_g`` is the variance of Wα over the
    phenotyped records, whose simulated counterpart is ``sigma2_g_realized``; a kernel's
    ``sigma2_g`` is on the scale of its K, with no simulated counterpart: left blank.
    """
    from ..terms.markers import Markers

    values = {name: truth[name] for name in ("sigma2_a", "sigma2_e", "h2") if name in truth}
    note = "true: the values data.simulate used"
    if "beta[sex[M]]" in parameters and "mean" in truth and "sex_effect" in truth:
        values["beta[Intercept]"] = truth["mean"] + truth["sex_effect"]
        values["beta[sex[M]]"] = -truth["sex_effect"]
        note += "; beta from its mean and sex effect (reference level F)"
    if any(isinstance(t, Markers) for t in model.terms) and "sigma2_g_realized" in truth and "var_g" in parameters:
        values["var_g"] = truth["sigma2_g_realized"]
        note += "; var_g: the variance of the true genetic values over the phenotyped records"
    return [format(values[p], ".4g") if p in values else "" for p in parameters], note + "."


def _print_summary(idata, truth=None, model=None) -> None:
    """``bg.summary`` of the low-dimensional parameters, with significant digits; with
    ``truth`` (a simulated data set's parameters), a ``true`` column beside the estimates."""
    from ..output.summary import format_summary, summary

    table = summary(idata)
    if truth is not None:
        column, note = true_values(truth, list(table.index), model)
        table.insert(0, "true", column)
    print(format_summary(table))
    if truth is not None:
        print(note)
    if idata.posterior.sizes["draw"] < MIN_SUMMARY_DRAWS:
        print(f"(fewer than {MIN_SUMMARY_DRAWS} draws per chain: ESS, R-hat and MCSE are undefined, shown as n/a)")


def _print_sensitivity(idata) -> None:
    import pandas as pd

    from ..diagnostics import prior_sensitivity

    table = prior_sensitivity(idata)
    columns = ["prior", "likelihood", "diagnosis"]
    print("\nPower-scaling sensitivity (Kallioinen et al. 2023; > 0.05 flags):")
    with pd.option_context("display.width", 120, "display.float_format", "{:.3f}".format):
        print(table[columns].to_string())


def _checkpoint_every(value):
    """--checkpoint-every: an integer is iterations, anything else a time ("90s", "10min")."""
    if value is None:
        return None
    return int(value) if value.strip().isdigit() else value


def fit(args) -> int:
    import time
    from pathlib import Path

    overrides = {k: getattr(args, k) for k in ("draws", "burn", "thin", "chains", "seed")}
    overrides["output"] = args.output
    spec = load_spec(args.spec, overrides)
    print(spec.model, flush=True)
    _apply_store(spec, args.store)
    options = dict(spec.sampler)
    if args.checkpoint is not None:
        from ..sampler.checkpoint import CheckpointWriter

        # What `bayesgen resume` needs to rebuild the model: the spec and the overrides (paths absolute).
        origin = {
            "spec": str(Path(args.spec).resolve()),
            "overrides": dict(overrides, output=None if args.output is None else str(Path(args.output).resolve())),
        }
        try:
            options["checkpoint"] = CheckpointWriter(args.checkpoint, _checkpoint_every(args.checkpoint_every), origin)
        except (TypeError, ValueError) as err:
            raise SpecError(f"--checkpoint/--checkpoint-every: {err}") from None
    elif args.checkpoint_every is not None:
        raise SpecError("--checkpoint-every needs --checkpoint FILE.")
    try:
        started = time.perf_counter()
        # The convergence report is printed below, not raised as a warning.
        idata = spec.model.sample(progress=not args.no_progress, check_convergence=False, **options)
        seconds = time.perf_counter() - started
    except KeyboardInterrupt:
        print(
            "bayesgen: interrupted before any draw was kept; nothing written"
            + (f" but the checkpoint {args.checkpoint}." if args.checkpoint else "."),
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    if args.checkpoint is not None:
        print(f"Checkpoint written to {args.checkpoint} (continue with `bayesgen resume {args.checkpoint}`)")
    return _report(spec, idata, seconds, args)


def resume(args) -> int:
    import time

    from ..resume_run import RunComplete
    from ..resume_run import resume as resume_run
    from ..sampler.checkpoint import CheckpointError, read_checkpoint

    try:
        origin = read_checkpoint(args.checkpoint).meta.get("origin")
    except (CheckpointError, FileNotFoundError, TypeError) as err:
        raise SpecError(str(err)) from None
    if args.draws is not None and args.draws < 1:
        raise SpecError(f"--draws must be >= 1, got {args.draws}.")
    if not origin or "spec" not in origin:
        raise SpecError(
            f"{args.checkpoint} was written from Python, not by `bayesgen fit`: resume it with "
            "bayesgen.resume(path, model)."
        )
    overrides = dict(origin.get("overrides") or {})
    if args.output is not None:
        overrides["output"] = args.output
    spec = load_spec(origin["spec"], overrides)
    print(spec.model, flush=True)
    try:
        started = time.perf_counter()
        idata = resume_run(
            args.checkpoint,
            spec.model,
            draws=args.draws,
            progress=not args.no_progress,
            checkpoint_every=_checkpoint_every(args.checkpoint_every),
            check_convergence=False,
        )
        seconds = time.perf_counter() - started
    except (CheckpointError, RunComplete) as err:
        raise SpecError(str(err)) from None
    except KeyboardInterrupt:
        print(
            f"bayesgen: interrupted before any draw was kept; the checkpoint {args.checkpoint} is kept.",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    return _report(spec, idata, seconds, args)


def _report(spec, idata, seconds: float, args) -> int:
    """Write the InferenceData (if the spec has an output), print the summary; the exit code."""
    from ..output import convergence_report, format_convergence, save

    interrupted = bool(idata.attrs.get("interrupted", 0))
    if spec.output is not None:
        # Written before the summary so that a failing summary cannot lose the draws.
        spec.output.parent.mkdir(parents=True, exist_ok=True)
        save(idata, spec.output)
    _print_summary(idata, spec.truth, spec.model)
    print(format_convergence(convergence_report(idata), seconds=seconds))
    if args.sensitivity:
        _print_sensitivity(idata)
    if spec.output is not None:
        print(f"InferenceData written to {spec.output}")
    else:
        print("No [output] path in the spec: InferenceData not written (use --output FILE.nc).")
    if interrupted:
        sizes = idata.posterior.sizes
        print(
            f"bayesgen: interrupted: kept {sizes['draw']} draws in each of {sizes['chain']} chain(s).", file=sys.stderr
        )
        return EXIT_INTERRUPTED
    return EXIT_OK


def simulate(args) -> int:
    from .simulate import simulate_command

    return simulate_command(args)


def reml(args) -> int:
    from .classical import reml_command

    return reml_command(args)


def gwas(args) -> int:
    from .classical import gwas_command

    return gwas_command(args)


COMMANDS = {"fit": fit, "resume": resume, "simulate": simulate, "reml": reml, "gwas": gwas}


def main(argv=None) -> int:
    """Run the command line; returns the exit code (see the module docstring)."""
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except SpecError as err:
        print(f"bayesgen: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("bayesgen: interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception:  # a bug, or a failure outside the spec (disk full, ...): show everything
        traceback.print_exc()
        print("bayesgen: unexpected error (traceback above).", file=sys.stderr)
        return EXIT_UNEXPECTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
