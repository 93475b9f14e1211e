"""``bayesgen reml SPEC`` and ``bayesgen gwas SPEC``: the classical companions on a model spec.

``reml`` builds the spec's model (its [sampler] table is ignored) and prints ``bg.reml``'s
estimates, standard errors, h2 and log-likelihood; ``--output FILE.csv`` writes them.
``gwas`` reads the spec's phenotypes and genotypes ([data], as for ``fit``; ``model.trait``,
``model.id`` and ``model.fixed`` as the phenotype, ids and covariates) and runs
``bg.gwas.lmm_scan``; it prints h2, lambda_GC and the top markers, and ``--output FILE.csv``
writes the whole table.
"""

from __future__ import annotations

from pathlib import Path

from .spec import SpecError


def add_parsers(sub) -> None:
    reml = sub.add_parser("reml", help="REML (or ML) estimates of a model spec's variance components")
    reml.add_argument("spec", help="path to a TOML model spec")
    reml.add_argument("--method", choices=("ai", "em", "eigen"), default="ai", help="AI-REML (default), EM or eigen")
    reml.add_argument("--ml", action="store_true", help="maximum likelihood instead of REML")
    reml.add_argument("--output", help="write the estimates and standard errors to this CSV file")
    gwas = sub.add_parser("gwas", help="mixed-model association scan of a spec's phenotype on its genotypes")
    gwas.add_argument("spec", help="path to a TOML model spec with genotypes")
    gwas.add_argument("--loco", action="store_true", help="leave-one-chromosome-out kernels")
    gwas.add_argument("--reestimate", action="store_true", help="re-estimate h2 for every marker")
    gwas.add_argument("--top", type=int, default=10, help="markers printed (smallest p_lrt first)")
    gwas.add_argument("--output", help="write the whole scan to this CSV file")


def _csv_path(value: str | None) -> Path | None:
    if value is None:
        return None
    path = Path(value)
    if path.suffix.lower() != ".csv":
        raise SpecError(f"--output must name a .csv file, got {value!r}.")
    if path.parent != Path("") and not path.parent.exists():
        raise SpecError(f"--output: the directory {str(path.parent)!r} does not exist.")
    return path


def reml_command(args) -> int:
    from ..classical.reml import reml
    from .spec import load_spec

    output = _csv_path(args.output)
    spec = load_spec(args.spec)
    print(spec.model, flush=True)
    try:
        result = reml(spec.model, method=args.method, reml=not args.ml)
    except ValueError as err:
        raise SpecError(str(err)) from None
    print(result)
    if output is not None:
        result.summary().to_csv(output, index_label="parameter")
        print(f"Estimates written to {output}")
    return 0 if result.converged else 1


def gwas_command(args) -> int:
    from ..diagnostics.lmm_scan import lmm_scan
    from .spec import load_scan_data

    output = _csv_path(args.output)
    if args.top < 0:
        raise SpecError(f"--top must be at least 0, got {args.top}.")
    phenotypes, genotypes, settings = load_scan_data(args.spec)
    try:
        table = lmm_scan(
            phenotypes,
            settings["trait"],
            genotypes,
            covariates=settings["fixed"],
            column=settings["id"],
            loco=args.loco,
            reestimate=args.reestimate,
        )
    except (ValueError, TypeError) as err:
        raise SpecError(str(err)) from None
    h2 = table.attrs["h2"]
    print(
        f"{len(table)} markers, {int(phenotypes[settings['trait']].notna().sum())} records; null h2 "
        f"{h2 if isinstance(h2, dict) else round(h2, 4)}; lambda_GC {table.attrs['lambda_gc']:.4f}"
    )
    if args.top:
        print(table.nsmallest(args.top, "p_lrt").to_string(index=False))
    if output is not None:
        table.to_csv(output, index=False)
        print(f"Scan written to {output}")
    return 0
