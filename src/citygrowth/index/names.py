"""The names of the engine's methods, for people: ``minmax`` is shown as "Min-max" / 最小-最大值
标准化, never as its code. :func:`method_name` translates into the current language."""

from __future__ import annotations

from citygrowth.i18n import N_, _

METHOD_NAMES: dict[str, dict[str, str]] = {
    "normalisation": {
        "minmax": N_("Min-max"),
        "zscore": N_("Z-score"),
        "dist_max": N_("Distance to the best value"),
        "dist_ref": N_("Distance to a reference unit"),
        "dist_target": N_("Distance to the target"),
        "fraction_max": N_("Fraction of the best value"),
        "rank": N_("Ranks (as scores)"),
        "percentile": N_("Percentile rank"),
        "borda": N_("Borda count"),
        "goalposts": N_("Goalposts"),
    },
    "aggregation": {
        "arithmetic": N_("Arithmetic mean"),
        "geometric": N_("Geometric mean"),
        "harmonic": N_("Harmonic mean"),
        "generalised": N_("Generalised mean"),
        "copeland": N_("Copeland outranking"),
        "topsis": N_("TOPSIS (closeness to the ideal)"),
    },
    "weighting": {
        "fixed": N_("Weights of the framework"),
        "equal": N_("Equal weights"),
        "ahp": N_("Analytic hierarchy process (AHP)"),
        "entropy": N_("Entropy weights"),
        "critic": N_("CRITIC weights"),
        "pca": N_("Principal component weights"),
        "optimised": N_("Weights that balance correlations"),
    },
    "imputation": {
        "mean": N_("Mean of the period"),
        "median": N_("Median of the period"),
        "group_mean": N_("Mean of the group"),
        "group_median": N_("Median of the group"),
        "locf": N_("Last value carried forward"),
        "linear": N_("Linear interpolation"),
        "none": N_("No imputation"),
    },
    "zeros": {
        "propagate": N_("A zero makes the mean zero"),
        "epsilon": N_("Zeros raised to a small value"),
        "shift": N_("A constant added first"),
    },
    "matrix": {
        "normalised": N_("Normalised scores"),
        "raw": N_("Raw decision matrix (pymcdm)"),
    },
    "topsis_normalisation": {
        "minmax": N_("Min-max"),
        "vector": N_("Vector normalisation"),
    },
}


def method_name(kind: str, code: str) -> str:
    """The name of method ``code`` of ``kind`` (normalisation, aggregation, weighting,
    imputation, zeros, matrix, topsis_normalisation) in the current language."""
    msgid = METHOD_NAMES.get(kind, {}).get(code)
    return _(msgid) if msgid else code


def choices(kind: str, codes: tuple[str, ...] | list[str]) -> list[dict[str, str]]:
    """``[{"code", "name"}]`` for a select list."""
    return [{"code": c, "name": method_name(kind, c)} for c in codes]
