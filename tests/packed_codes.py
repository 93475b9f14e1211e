"""Helpers for running the genotype kernels' oracle tests on packed codes (2 bits each) as
well as on int8 codes: the kernels take either, and must give the same values."""

import numpy as np
import pytest

from bayesgen.data._genotype_kernels import pack_codes, packed_width

#: Parametrise a test over how the kernels get the codes: as int8, or packed 2 bits each.
STORED = pytest.mark.parametrize("stored", ["int8", "packed"])


def as_stored(codes: np.ndarray, stored: str) -> np.ndarray:
    """``codes`` (int8, markers x records) as the kernels take them: as is, or packed (PLINK layout)."""
    if stored == "int8":
        return codes
    assert stored == "packed", stored
    out = np.empty((codes.shape[0], packed_width(codes.shape[1])), dtype=np.uint8)
    pack_codes(np.ascontiguousarray(codes), out)
    return out
