"""Validation of an upload, vectorised in DuckDB: joins against the indicator, area, period and
unit lists instead of a Python loop over rows.

The upload sits in a DuckDB table ``up`` (its ``rowid`` is the record's position). Small
dimension tables are built in Python — the framework's indicators, the stored areas, the
*distinct* periods and (indicator, unit) pairs of the upload — and one join gives every row its
keys and error flags (table ``j``). Problems are counted in one pass and up to ``cap`` of them
are fetched with the file's own values; duplicates are found by grouping on one integer key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from citygrowth.areas.models import LEVELS
from citygrowth.catalog import units
from citygrowth.catalog.datasets import COLUMNS, Dataset
from citygrowth.catalog.framework import Framework
from citygrowth.catalog.units import UnitError, factor
from citygrowth.errors import CityGrowthError, Problem
from citygrowth.i18n import N_, translate
from citygrowth.periods import Period

CAP = 200
MIN_YEAR = 1990
ALIASES: dict[str, tuple[str, ...]] = {
    "indicator": ("indicator", "indicator_code", "指标", "指标代码"),
    "area_code": ("area_code", "area", "区域代码", "地区代码", "区划代码"),
    "period": ("period", "time_period", "时期", "期间", "统计期"),
    "value": ("value", "obs_value", "数值", "值"),
    "unit": ("unit", "单位"),
}
FREQ_MESSAGES = {
    "A": N_("Period {value} does not match {indicator}, which is annual (e.g. 2024)."),
    "Q": N_("Period {value} does not match {indicator}, which is quarterly (e.g. 2024-Q3)."),
    "M": N_("Period {value} does not match {indicator}, which is monthly (e.g. 2024-09)."),
}
# flag → (column the problem is about, msgid)
CHECKS: dict[str, tuple[str, str]] = {
    "e_ind": ("indicator", N_("Unknown indicator code '{value}'.")),
    "e_ds": ("indicator", N_("Indicator {value} does not belong to dataset {dataset}.")),
    "e_area": ("area_code", N_("Unknown area code '{value}'.")),
    "e_level": ("area_code", N_("Area {value} is a {area_level}, finer than {indicator} allows "
                                "(finest level: {finest_level}).")),
    "e_period": ("period", N_("'{value}' is not a period (use 2024, 2024-Q3 or 2024-09).")),
    "e_freq": ("period", ""),
    "e_future": ("period", N_("Period {value} has not begun yet.")),
    "e_old": ("period", N_("Period {value} is before {min_year}.")),
    "e_empty": ("value", N_("The value is empty.")),
    "e_num": ("value", N_("'{value}' is not a number.")),
    "e_unit": ("unit", N_("Unknown unit '{value}'.")),
    "e_mismatch": ("unit", N_("Unit '{value}' cannot be converted to {unit}, the unit of "
                              "{indicator}.")),
}
LEVEL_NAMES = {"district": N_("district"), "street": N_("street"),
               "community": N_("community"), "grid": N_("grid cell")}


@dataclass(frozen=True)
class LevelProblem(Problem):
    """A problem whose area-level params are msgids, translated when rendered."""

    def render(self, locale: str | None = None) -> dict[str, Any]:
        params = {k: translate(v, locale) if k in ("area_level", "finest_level") else v
                  for k, v in self.params.items()}
        return Problem(self.message, params, self.file, self.row, self.field,
                       self.value).render(locale)


class LoadRejected(CityGrowthError):
    """An upload with problems: nothing was written. ``problems`` name file, row and column."""

    status = 422
    code = "load_rejected"
    message = "{file}: {n} problems found; nothing was loaded."

    def __init__(self, problems: list[Problem], total: int, file: str, **meta: Any) -> None:
        super().__init__(problems=problems, file=file, n=total)
        self.total = total
        self.meta = meta


@dataclass
class CheckedUpload:
    """The outcome of :func:`check`: row count, problems (at most ``CAP``, of ``total``), the
    upload's column names — and, when there is no problem, the checked rows in the DuckDB
    connection (scratch tables ``j`` and the ``dim_*`` dimensions), read only through the
    methods below: nothing outside this module knows those tables."""

    rows: int
    problems: list[Problem] = field(default_factory=list)
    total: int = 0
    columns: dict[str, str] = field(default_factory=dict)
    con: duckdb.DuckDBPyConnection | None = field(default=None, repr=False)

    def _con(self) -> duckdb.DuckDBPyConnection:
        if self.con is None or self.total:
            raise RuntimeError("only an upload without problems holds checked rows")
        return self.con

    def indicator_codes(self) -> list[str]:
        """The indicators of the checked rows, sorted."""
        return [r[0] for r in self._con().execute(
            "SELECT DISTINCT i.code FROM j JOIN dim_ind i USING (ik) ORDER BY 1").fetchall()]

    def indicator_areas(self) -> list[tuple[str, str]]:
        """The distinct (indicator, area) pairs of the checked rows."""
        return [(r[0], r[1]) for r in self._con().execute(
            "SELECT DISTINCT i.code, a.code FROM j JOIN dim_ind i USING (ik) "
            "JOIN dim_area a USING (ak)").fetchall()]

    def period_range(self) -> tuple[str | None, str | None]:
        """The first and last period of the checked rows."""
        row = self._con().execute(
            "SELECT arg_min(p.period, p.p_start), arg_max(p.period, p.p_start) "
            "FROM (SELECT DISTINCT pk FROM j) jj JOIN (SELECT DISTINCT pk, period, p_start "
            "FROM dim_per) p USING (pk)").fetchall()[0]
        return (row[0], row[1]) if row else (None, None)

    def write_batch(self, path: Path, load_id: str, vintage: dt.datetime,
                    fw: Framework) -> None:
        """Write the checked rows as the load's Parquet batch (``batches.BATCH_COLUMNS``).

        Text columns are written from ENUM-typed dimensions: DuckDB writes an ENUM as a
        dictionary-encoded Parquet string straight from its codes, where plain text would be
        hashed row by row (3× faster for 10M rows); readers see ordinary strings."""
        con = self._con()
        units = sorted({i.unit for i in fw.indicators})
        enums = {
            "e_ind": [r[0] for r in con.execute("SELECT code FROM dim_ind ORDER BY ik")
                      .fetchall()],
            "e_area": [r[0] for r in con.execute("SELECT code FROM dim_area ORDER BY ak")
                       .fetchall()],
            "e_per": [r[0] for r in con.execute(
                "SELECT DISTINCT period FROM dim_per ORDER BY 1").fetchall()],
            "e_freq": ["A", "Q", "M"], "e_unit": units, "e_load": [load_id],
        }
        for name, values in enums.items():
            con.execute(f"DROP TYPE IF EXISTS {name}")
            con.execute(f"CREATE TYPE {name} AS ENUM (SELECT unnest(?::VARCHAR[]))", [values])
        # dim_ind holds the framework's indicators in order: ik is the position
        unit_of = pd.DataFrame({"ik": range(len(fw.indicators)),
                                "u_unit": [i.unit for i in fw.indicators]})
        con.register("unit_of_df", unit_of)
        con.execute("""
            CREATE OR REPLACE TEMP TABLE w_ind AS
            SELECT d.ik, d.code::e_ind AS code, u.u_unit::e_unit AS unit
            FROM dim_ind d JOIN unit_of_df u USING (ik)""")
        con.execute("CREATE OR REPLACE TEMP TABLE w_area AS SELECT ak, code::e_area AS code "
                    "FROM dim_area")
        con.execute("""
            CREATE OR REPLACE TEMP TABLE w_per AS
            SELECT DISTINCT pk, period::e_per AS period, p_freq::e_freq AS freq,
                   p_start::DATE AS period_start FROM dim_per""")
        tmp = path.with_suffix(".tmp")
        con.execute(f"""
            COPY (
              SELECT i.code AS indicator, a.code AS area_code, p.period, p.freq,
                     p.period_start, j.value, i.unit, ?::e_load AS load_id,
                     ?::TIMESTAMPTZ AS vintage
              FROM j JOIN w_ind i USING (ik) JOIN w_area a USING (ak) JOIN w_per p USING (pk)
            ) TO '{tmp}' (FORMAT parquet, COMPRESSION zstd)
        """, [load_id, vintage])
        tmp.replace(path)


def map_columns(names: list[str]) -> dict[str, str]:
    """canonical column → the upload's column name."""
    out: dict[str, str] = {}
    for name in names:
        key = str(name).strip().lower()
        for canon, aliases in ALIASES.items():
            if key in aliases and canon not in out:
                out[canon] = name
    return out


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def check(con: duckdb.DuckDBPyConnection, fw: Framework, areas: pd.DataFrame, file: str,
          first_row: int, dataset: Dataset | None, today: dt.date) -> CheckedUpload:
    """Validate the view ``src``; on success the result holds the checked rows.

    A fast pass joins the rows straight from ``src`` with exact-match lists (every period
    spelling in range, every unit spelling of each indicator's dimension) and counts rows
    that fail and duplicate keys. Only when that finds anything does the precise pass run:
    it materialises the upload with row numbers, trims, parses each distinct period and
    unit, and names every problem.
    """
    names = [r[0] for r in con.execute("DESCRIBE src").fetchall()]
    cols = map_columns(names)
    missing = [c for c in COLUMNS if c not in cols]
    if missing:
        probs = [Problem(N_("Missing column '{column}'. The columns must be indicator, "
                            "area_code, period, value (unit optional)."),
                         {"column": c}, file=file, row=1, field=c) for c in missing]
        return CheckedUpload(0, probs, len(probs), cols)
    _base_dimensions(con, fw, areas, dataset)
    rows, bad = _fast(con, fw, cols, today)
    if rows == 0:
        return CheckedUpload(0, [Problem(N_("The upload has no data rows."), {}, file=file)], 1,
                             cols)
    if bad == 0 and _duplicate_count(con) == 0:
        return CheckedUpload(rows, columns=cols, con=con)
    # the precise pass numbers rows by their place in the file: keep the order here
    con.execute("SET preserve_insertion_order=true")
    con.execute("CREATE OR REPLACE TEMP TABLE up AS SELECT * FROM src")
    _dimensions(con, fw, cols, today)
    _join(con, cols)
    checked = CheckedUpload(rows, columns=cols, con=con)
    _collect(con, checked, file, first_row, dataset, fw)
    return checked


def _base_dimensions(con: duckdb.DuckDBPyConnection, fw: Framework, areas: pd.DataFrame,
                     dataset: Dataset | None) -> None:
    inds = fw.indicators
    in_ds = set(dataset.indicators) if dataset else {i.code for i in inds}
    dim_ind = pd.DataFrame({
        "code": [i.code for i in inds], "ik": range(len(inds)),
        "i_freq": [i.frequency for i in inds],
        "i_lvl": [LEVELS.index(i.finest_level) for i in inds],
        "in_ds": [i.code in in_ds for i in inds],
    })
    dim_area = pd.DataFrame({
        "code": areas["code"].astype(str), "ak": range(len(areas)),
        "a_lvl": [LEVELS.index(lv) if lv in LEVELS else 9 for lv in areas["level"]],
    })
    con.register("dim_ind_df", dim_ind)
    con.register("dim_area_df", dim_area)
    con.execute("CREATE OR REPLACE TEMP TABLE dim_ind AS SELECT * FROM dim_ind_df")
    con.execute("CREATE OR REPLACE TEMP TABLE dim_area AS SELECT * FROM dim_area_df")


def period_spellings(today: dt.date) -> list[str]:
    """Every accepted way of writing an annual, quarterly or monthly period from MIN_YEAR to
    ``today``."""
    out: list[str] = []
    for y in range(MIN_YEAR, today.year + 1):
        out.append(f"{y}")
        for q in range(1, 5):
            out += [f"{y}Q{q}", f"{y}-Q{q}", f"{y}q{q}", f"{y}-q{q}"]
        for m in range(1, 13):
            out += [f"{y}-{m:02d}", f"{y}{m:02d}", f"{y}M{m:02d}", f"{y}-M{m:02d}"]
    return out


def _fast(con: duckdb.DuckDBPyConnection, fw: Framework, cols: dict[str, str],
          today: dt.date) -> tuple[int, int]:
    con.register("dim_per_df", _periods(period_spellings(today), today))
    con.execute("CREATE OR REPLACE TEMP TABLE dim_per AS SELECT * FROM dim_per_df "
                "WHERE NOT p_future")

    def col(name: str) -> str:
        return f"CAST(u.{_q(cols[name])} AS VARCHAR)"

    unit_join, factor, unit_ok = "", "1.0", "true"
    if "unit" in cols:
        pairs = [(i.code, s) for i in fw.indicators for s in units.spellings(i.unit, fw.units)]
        con.register("dim_unit_df", _units(pairs, fw))
        con.execute("CREATE OR REPLACE TEMP TABLE dim_unit AS SELECT * FROM dim_unit_df")
        unit_join = (f"LEFT JOIN dim_unit du ON du.u_ind = {col('indicator')} "
                     f"AND du.u_raw = {col('unit')}")
        factor = "coalesce(du.u_factor, 1.0)"
        unit_ok = f"(nullif({col('unit')}, '') IS NULL OR du.u_status = 'ok')"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE j AS
        SELECT i.ik, a.ak, p.pk, v * {factor} AS value,
          coalesce(i.in_ds AND a.a_lvl <= i.i_lvl AND p.p_freq = i.i_freq AND isfinite(v)
                   AND {unit_ok}, false) AS ok
        -- TRY(CAST) and not TRY_CAST: DuckDB pushes a TRY_CAST into the CSV reader, which
        -- then fails on the first bad number instead of flagging the row
        FROM (SELECT *, TRY(CAST(u.{_q(cols["value"])} AS DOUBLE)) AS v FROM src u) u
        LEFT JOIN dim_ind i ON i.code = {col('indicator')}
        LEFT JOIN dim_area a ON a.code = {col('area_code')}
        LEFT JOIN dim_per p ON p.raw = {col('period')}
        {unit_join}
    """)
    rows, bad = con.execute(  # count_if of no rows is NULL
        "SELECT count(*), coalesce(count_if(NOT ok), 0) FROM j").fetchall()[0]
    return int(rows), int(bad)


BITMAP_MAX = 999_999_999  # DuckDB's largest bitstring_agg range (a 125 MB bitmap)


def _duplicate_count(con: duckdb.DuckDBPyConnection) -> int:
    """Rows of ``j`` whose (indicator, area, period) another row already has. With every key
    present and their product small enough, one bit per possible key counts the distinct
    keys (3× faster than a hash of 10M keys); otherwise a hash count."""
    ni, na, npk = (int(con.execute(f"SELECT coalesce(max({k}), 0) + 1 FROM {t}").fetchall()[0][0])
                   for k, t in (("ik", "dim_ind"), ("ak", "dim_area"), ("pk", "dim_per")))
    key = f"(ik::BIGINT * {na} + ak) * {npk} + pk"
    if ni * na * npk - 1 <= BITMAP_MAX:
        n = con.execute(f"SELECT count(*) - coalesce(bit_count(bitstring_agg(({key})::INTEGER, "
                        f"0, {ni * na * npk - 1})), 0) FROM j").fetchall()[0][0]
    else:
        n = con.execute(f"SELECT count(*) - count(DISTINCT {key}) FROM j").fetchall()[0][0]
    return int(n)


def _dimensions(con: duckdb.DuckDBPyConnection, fw: Framework, cols: dict[str, str],
                today: dt.date) -> None:
    """Precise pass: the distinct periods and (indicator, unit) pairs as written."""
    raws = [r[0] for r in con.execute(
        f"SELECT DISTINCT trim(CAST({_q(cols['period'])} AS VARCHAR)) FROM up").fetchall()]
    con.register("dim_per_df", _periods(raws, today))
    con.execute("CREATE OR REPLACE TEMP TABLE dim_per AS SELECT * FROM dim_per_df")
    if "unit" in cols:
        pairs = con.execute(
            f"SELECT DISTINCT trim(CAST({_q(cols['indicator'])} AS VARCHAR)), "
            f"trim(CAST({_q(cols['unit'])} AS VARCHAR)) FROM up").fetchall()
        con.register("dim_unit_df", _units(pairs, fw))
        con.execute("CREATE OR REPLACE TEMP TABLE dim_unit AS SELECT * FROM dim_unit_df")


def _periods(raws: Sequence[str | None], today: dt.date) -> pd.DataFrame:
    """One row per spelling; ``pk`` identifies the canonical period (so ``2024-09`` and
    ``202409`` are the same key)."""
    out: dict[str, list[Any]] = {"raw": [], "pk": [], "period": [], "p_freq": [], "p_start": [],
                                 "p_future": [], "p_old": []}
    keys: dict[str, int] = {}
    for raw in raws:
        if raw is None:
            continue
        try:
            p = Period.parse(raw)
        except CityGrowthError:
            continue
        out["raw"].append(raw)
        out["pk"].append(keys.setdefault(str(p), len(keys)))
        out["period"].append(str(p))
        out["p_freq"].append(p.freq)
        out["p_start"].append(p.start)
        out["p_future"].append(p.start > today)
        out["p_old"].append(p.start.year < MIN_YEAR)
    df = pd.DataFrame(out)
    df["p_start"] = pd.to_datetime(pd.Series(out["p_start"], dtype=object)).astype(
        "datetime64[s]")
    return df.astype({"raw": "string", "period": "string", "p_freq": "string", "pk": "int64",
                      "p_future": "bool", "p_old": "bool"})


def _units(pairs: list[tuple[Any, Any]], fw: Framework) -> pd.DataFrame:
    out: dict[str, list[Any]] = {"u_ind": [], "u_raw": [], "u_factor": [], "u_status": []}
    imap = fw.indicator_map()
    for ind, raw in pairs:
        if raw is None or raw == "" or ind not in imap:
            continue
        status, f = "ok", 1.0
        try:
            f = factor(raw, imap[ind].unit, fw.fx_rates, fw.units)
        except UnitError as exc:
            status = "mismatch" if exc.code == "unit_mismatch" else "unknown"
        out["u_ind"].append(ind)
        out["u_raw"].append(raw)
        out["u_factor"].append(f)
        out["u_status"].append(status)
    return pd.DataFrame(out).astype({"u_ind": "string", "u_raw": "string",
                                     "u_factor": "float64", "u_status": "string"})


def _join(con: duckdb.DuckDBPyConnection, cols: dict[str, str]) -> None:
    ind = f"trim(CAST(u.{_q(cols['indicator'])} AS VARCHAR))"
    area = f"trim(CAST(u.{_q(cols['area_code'])} AS VARCHAR))"
    per = f"trim(CAST(u.{_q(cols['period'])} AS VARCHAR))"
    val = f"u.{_q(cols['value'])}"
    unit_join, unit_cols = "", "1.0::DOUBLE AS factor, false AS e_unit, false AS e_mismatch"
    factor_expr = "1.0"
    if "unit" in cols:
        unit = f"trim(CAST(u.{_q(cols['unit'])} AS VARCHAR))"
        unit_join = f"LEFT JOIN dim_unit du ON du.u_ind = {ind} AND du.u_raw = {unit}"
        factor_expr = "coalesce(du.u_factor, 1.0)"
        unit_cols = ("coalesce(du.u_factor, 1.0) AS factor, "
                     "coalesce(du.u_status = 'unknown', false) AS e_unit, "
                     "coalesce(du.u_status = 'mismatch', false) AS e_mismatch")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE j AS
        SELECT u.rowid AS rid, i.ik, a.ak, p.pk, TRY(CAST({val} AS DOUBLE)) AS val,
          TRY(CAST({val} AS DOUBLE)) * {factor_expr} AS value,
          i.ik IS NULL AS e_ind,
          i.ik IS NOT NULL AND NOT i.in_ds AS e_ds,
          a.ak IS NULL AS e_area,
          coalesce(a.a_lvl > i.i_lvl, false) AS e_level,
          p.pk IS NULL AS e_period,
          coalesce(p.p_freq <> i.i_freq, false) AS e_freq,
          coalesce(p.p_future, false) AS e_future,
          coalesce(p.p_old, false) AS e_old,
          {val} IS NULL OR trim(CAST({val} AS VARCHAR)) = '' AS e_empty,
          {unit_cols}
        FROM up u
        LEFT JOIN dim_ind i ON i.code = {ind}
        LEFT JOIN dim_area a ON a.code = {area}
        LEFT JOIN dim_per p ON p.raw = {per}
        {unit_join}
    """)
    con.execute("""
        CREATE OR REPLACE TEMP VIEW jf AS
        SELECT *, NOT e_empty AND (val IS NULL OR isinf(val) OR isnan(val)) AS e_num FROM j
    """)


def _collect(con: duckdb.DuckDBPyConnection, checked: CheckedUpload, file: str, first_row: int,
             dataset: Dataset | None, fw: Framework) -> None:
    flags = list(CHECKS)
    counts = con.execute(
        "SELECT " + ", ".join(f"count_if({f})" for f in flags) + " FROM jf").fetchall()[0]
    assert counts is not None
    found: list[tuple[int, str]] = []
    total = 0
    for flag, n in zip(flags, counts, strict=True):
        total += int(n)
        if n:
            found += [(int(r[0]), flag) for r in con.execute(
                f"SELECT rid FROM jf WHERE {flag} ORDER BY rid LIMIT {CAP}").fetchall()]
    dups, n_dups = _duplicates(con)
    total += n_dups
    found += [(rid, "dup") for rid, _first in dups]
    first_of = dict(dups)
    found.sort()
    shown = found[:CAP]
    raw = _raw_rows(con, checked.columns, sorted({rid for rid, _ in shown}))
    for rid, flag in shown:
        checked.problems.append(_problem(flag, raw[rid], file, rid + first_row,
                                         first_of.get(rid, 0) + first_row, dataset, fw))
    if total > len(shown):
        checked.problems.append(Problem(N_("… and {n} more problems not shown."),
                                        {"n": total - len(shown)}, file=file))
    checked.total = total


def _duplicates(con: duckdb.DuckDBPyConnection) -> tuple[list[tuple[int, int]], int]:
    na = con.execute("SELECT count(*) + 1 FROM dim_area").fetchall()[0][0]
    npk = con.execute("SELECT count(*) + 1 FROM dim_per").fetchall()[0][0]
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE dupk AS
        SELECT (ik::BIGINT * {na} + ak) * {npk} + pk AS k, min(rid) AS first, count(*) AS n
        FROM j WHERE ik IS NOT NULL AND ak IS NOT NULL AND pk IS NOT NULL
        GROUP BY 1 HAVING count(*) > 1
    """)
    n = con.execute("SELECT coalesce(sum(n - 1), 0) FROM dupk").fetchall()[0][0]
    if not n:
        return [], 0
    rows = con.execute(f"""
        SELECT j.rid, d.first FROM j JOIN dupk d
          ON (j.ik::BIGINT * {na} + j.ak) * {npk} + j.pk = d.k
        WHERE j.rid <> d.first ORDER BY j.rid LIMIT {CAP}
    """).fetchall()
    return [(int(a), int(b)) for a, b in rows], int(n)


def _raw_rows(con: duckdb.DuckDBPyConnection, cols: dict[str, str], rids: list[int]
              ) -> dict[int, dict[str, Any]]:
    if not rids:
        return {}
    sel = ", ".join(f"CAST({_q(src)} AS VARCHAR) AS {canon}" for canon, src in cols.items())
    rows = con.execute(f"SELECT rowid, {sel} FROM up WHERE rowid IN (SELECT unnest(?))",
                       [rids]).fetchall()
    names = list(cols)
    out = {int(r[0]): dict(zip(names, r[1:], strict=True)) for r in rows}
    info = con.execute(
        "SELECT j.rid, i.code, i.i_freq, i.i_lvl, a.a_lvl FROM j LEFT JOIN dim_ind i USING (ik) "
        "LEFT JOIN dim_area a USING (ak) WHERE j.rid IN (SELECT unnest(?))", [rids]).fetchall()
    for rid, code, freq, ilvl, alvl in info:
        out[int(rid)].update(_code=code, _freq=freq, _ilvl=ilvl, _alvl=alvl)
    return out


def _problem(flag: str, raw: dict[str, Any], file: str, row: int, first_row: int,
             dataset: Dataset | None, fw: Framework) -> Problem:
    if flag == "dup":
        return Problem(
            N_("Duplicate of row {first}: {indicator}, {area}, {period} may appear only once "
               "per upload."),
            {"first": first_row, "indicator": raw.get("indicator"), "area": raw.get("area_code"),
             "period": raw.get("period")}, file=file, row=row, field="period",
            value=raw.get("period"))
    column, message = CHECKS[flag]
    value = raw.get(column)
    params: dict[str, Any] = {"value": value, "indicator": raw.get("_code") or
                              raw.get("indicator"), "dataset": dataset.code if dataset else "",
                              "min_year": MIN_YEAR}
    if flag == "e_freq":
        message = FREQ_MESSAGES[raw.get("_freq") or "A"]
    if flag == "e_level":
        params.update(area_level=LEVEL_NAMES[LEVELS[int(raw["_alvl"])]],
                      finest_level=LEVEL_NAMES[LEVELS[int(raw["_ilvl"])]])
        return LevelProblem(message, params, file=file, row=row, field=column, value=value)
    if flag == "e_mismatch":
        params["unit"] = fw.indicator(str(raw.get("_code"))).unit
    return Problem(message, params, file=file, row=row, field=column, value=value)
