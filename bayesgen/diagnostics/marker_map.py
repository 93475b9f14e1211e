"""Column names read as a marker map's chromosome and position (GWAS windows, association scans)."""

CHROM_COLUMNS = ("chrom", "chr", "chromosome")
POSITION_COLUMNS = ("pos", "bp", "position")
