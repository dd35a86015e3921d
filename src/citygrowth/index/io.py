"""Files in and out: the long CSV ``unit,period,indicator,value`` and the results CSV
``unit,period,code,value``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from citygrowth.errors import Problem, ValidationFailed

LONG_COLUMNS = ("unit", "period", "indicator", "value")


def read_long_csv(path: str | Path) -> pd.DataFrame:
    """Read and check a long data file; every problem names its row and column."""
    p = Path(path)
    try:
        df = pd.read_csv(p, dtype={"unit": str, "period": str, "indicator": str},
                         keep_default_na=True)
    except FileNotFoundError:
        raise ValidationFailed("The data file cannot be read.",
                               problems=[Problem(message="File not found.", file=str(p))]
                               ) from None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ValidationFailed("The data file cannot be read.", problems=[Problem(
            message="Not a CSV file: {detail}", params={"detail": str(exc)[:200]},
            file=str(p))]) from None
    missing = [c for c in LONG_COLUMNS if c not in df.columns]
    if missing:
        raise ValidationFailed("The data file cannot be read.", problems=[Problem(
            message="Missing column {column}.", params={"column": c}, file=str(p), field=c)
            for c in missing])
    values = pd.to_numeric(df["value"], errors="coerce")
    bad = values.isna() & df["value"].notna()
    problems = [Problem(message="Not a number.", file=str(p), row=int(i) + 2, field="value",
                        value=str(df["value"].iloc[i])) for i in np.flatnonzero(bad)[:20]]
    dup = df.duplicated(["unit", "period", "indicator"], keep="first")
    problems += [Problem(message="Duplicate value for this unit, period and indicator.",
                         file=str(p), row=int(i) + 2) for i in np.flatnonzero(dup)[:20]]
    if problems:
        raise ValidationFailed("The data file has errors.", problems=problems)
    df["value"] = values.astype(float)
    return df[list(LONG_COLUMNS)]


def long_to_wide(long: pd.DataFrame) -> pd.DataFrame:
    """(unit, period)-indexed wide panel, one column per indicator."""
    wide = long.pivot(index=["unit", "period"], columns="indicator", values="value")
    wide.columns.name = None
    return wide.sort_index()


def write_results_csv(long: pd.DataFrame, path: str | Path) -> None:
    out = long[["unit", "period", "code", "value"]].sort_values(["unit", "period", "code"])
    out.to_csv(path, index=False, float_format="%.12g")
