"""A multi-generation population: random-mating pedigree and gene dropping of marker alleles."""

from __future__ import annotations

import numpy as np


def random_mating_pedigree(rng: np.random.Generator, n_founders: int, n_generations: int, n_offspring: int):
    """Sires, dams, sexes and generations of a random-mating population (parents first).

    Generation 0 are ``n_founders`` unrelated founders (half male, half female). Each
    later generation has ``n_offspring`` animals whose sire and dam are drawn uniformly
    from the males and females of the previous generation. Returns arrays indexed by
    animal number (parents precede offspring; -1 = unknown parent).
    """
    if n_founders < 2:
        raise ValueError("n_founders must be at least 2 (one sire and one dam).")
    sexes = [np.arange(n_founders) % 2]  # 0 = male, 1 = female
    sires, dams = [np.full(n_founders, -1)], [np.full(n_founders, -1)]
    generation = [np.zeros(n_founders, dtype=np.int64)]
    start, size = 0, n_founders
    for g in range(1, n_generations + 1):
        parents = np.arange(start, start + size)
        sex = sexes[-1]
        males, females = parents[sex == 0], parents[sex == 1]
        if males.size == 0 or females.size == 0:
            raise ValueError(f"Generation {g - 1} has no males or no females; increase n_offspring.")
        sires.append(rng.choice(males, n_offspring))
        dams.append(rng.choice(females, n_offspring))
        sexes.append(rng.integers(0, 2, n_offspring))
        generation.append(np.full(n_offspring, g))
        start, size = start + size, n_offspring
    return (np.concatenate(sires), np.concatenate(dams), np.concatenate(sexes), np.concatenate(generation))


def drop_genes(rng: np.random.Generator, sire, dam, allele_frequencies) -> np.ndarray:
    """Genotypes (animals x markers, int8 allele counts) by gene dropping.

    Founders get two haplotypes drawn independently at the given allele frequencies;
    every other animal inherits, at each marker independently (unlinked loci), one of
    its sire's two alleles and one of its dam's, each with probability 1/2.
    """
    n, p = sire.size, allele_frequencies.size
    haplotypes = np.empty((n, 2, p), dtype=np.int8)
    for i in range(n):  # animals in order; vectorised over markers
        for parent, h in ((sire[i], 0), (dam[i], 1)):
            if parent < 0:
                haplotypes[i, h] = rng.random(p) < allele_frequencies
            else:
                pick = rng.integers(0, 2, p)
                haplotypes[i, h] = np.where(pick == 0, haplotypes[parent, 0], haplotypes[parent, 1])
    return haplotypes.sum(axis=1, dtype=np.int8)
