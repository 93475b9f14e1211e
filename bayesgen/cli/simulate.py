"""``bayesgen simulate SPEC --plink PREFIX``: write the data a spec's ``data.simulate`` makes as files.

The genotypes go to a PLINK 1 binary file set (``PREFIX.bed/.bim/.fam``, written with
bed-reader), the phenotypes to ``PREFIX.phen.csv`` and the pedigree to ``PREFIX.ped.csv``,
so that a spec reading files (``models/plink_example.toml``) can be tried on known truth.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.genotypes import MISSING
from .spec import SpecError, check_writable_directory, simulation_of

#: bed-reader's missing value for integer genotypes.
BED_MISSING_INT8 = -127
#: PLINK's .fam sex codes.
FAM_SEX = {"M": 1, "F": 2}


def plink_prefix(value) -> Path:
    """``--plink``: a path prefix whose directory exists or can be created; a .bed suffix is dropped."""
    if not isinstance(value, (str, os.PathLike)) or not str(value):
        raise SpecError("--plink must be a non-empty path prefix (PREFIX.bed, .bim and .fam are written).")
    prefix = Path(value)
    if prefix.suffix in (".bed", ".bim", ".fam"):
        prefix = prefix.with_suffix("")
    if prefix.is_dir():
        raise SpecError(f"--plink: {prefix} is a directory; give a prefix such as {prefix / 'sim'}.")
    check_writable_directory(prefix, "--plink")  # as fit checks its output, before simulating
    return prefix


def write_plink(genotypes, prefix: Path, pedigree=None, sex=None) -> None:
    """``genotypes`` as ``prefix.bed/.bim/.fam``: codes count allele1, missing stays missing.

    ``pedigree`` (DataFrame id, sire, dam) fills the .fam's father and mother, ``sex``
    (Series of "M"/"F" by id) its sex column; unknown ones are written as 0.
    """
    from bed_reader import to_bed  # imported here: only this command writes PLINK

    ids = [str(i) for i in genotypes.ids]
    properties = {"iid": ids, "fid": ids, "sid": [str(m) for m in genotypes.markers]}
    if pedigree is not None:
        parents = pedigree.set_index("id")
        for column, prop in (("sire", "father"), ("dam", "mother")):
            known = parents[column].reindex(ids)
            properties[prop] = ["0" if pd.isna(p) or p == "" else str(p) for p in known]
    if sex is not None:
        properties["sex"] = [FAM_SEX.get(s, 0) for s in sex.reindex(ids)]
    info = genotypes.marker_info
    if info is not None:
        for column, prop in (
            ("chrom", "chromosome"),
            ("pos", "bp_position"),
            ("allele1", "allele_1"),
            ("allele2", "allele_2"),
        ):
            if column in info:
                properties[prop] = info[column].tolist()
    values = np.where(genotypes.codes == MISSING, np.int8(BED_MISSING_INT8), genotypes.codes).T
    to_bed(prefix.parent / (prefix.name + ".bed"), np.ascontiguousarray(values, dtype=np.int8), properties=properties)


def simulate_command(args) -> int:
    """Simulate the spec's data and write the PLINK set, phenotypes and pedigree."""
    prefix = plink_prefix(args.plink)
    sim = simulation_of(args.spec)
    if sim.genotypes is None:
        raise SpecError(f"{args.spec}: data.simulate.n_markers = 0 simulates no genotypes to write as PLINK.")
    prefix.parent.mkdir(parents=True, exist_ok=True)
    sex = sim.phenotypes.set_index("id")["sex"] if "sex" in sim.phenotypes else None
    write_plink(sim.genotypes, prefix, pedigree=sim.pedigree, sex=sex)
    phen, ped = prefix.parent / (prefix.name + ".phen.csv"), prefix.parent / (prefix.name + ".ped.csv")
    sim.phenotypes.to_csv(phen, index=False)
    sim.pedigree.to_csv(ped, index=False)
    geno = sim.genotypes
    print(
        f"Wrote {prefix}.bed/.bim/.fam ({geno.n_individuals} individuals x {geno.n_markers} markers), "
        f"{phen} ({len(sim.phenotypes)} records) and {ped}."
    )
    return 0
