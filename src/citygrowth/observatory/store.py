"""The observation store: every accepted batch, queried through Ibis (DuckDB or PySpark).

``ObservationStore(settings)`` reads the Parquet batches under ``<data_dir>/observations/``.
With DuckDB (the default) it keeps, per process and data folder, one in-memory database that
holds every batch (``obs_all``) and the current view (``obs_current``); it reloads only the new
batches when a load is committed, so dashboards do not re-scan files on every query. With
PySpark it reads the same files through ``ibis.pyspark``.

The *current view* is, for each (indicator, area_code, period), the value of the latest
vintage (ties broken by load id) at or before ``as_of`` — see :func:`current_view`.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.orm import Session

from citygrowth.areas.models import CODE_LENGTH, LEVELS
from citygrowth.catalog.framework import Framework
from citygrowth.errors import ValidationFailed
from citygrowth.observatory import batches
from citygrowth.observatory.freshness import freshness
from citygrowth.observatory.rollup import rollup_expr
from citygrowth.periods import Period
from citygrowth.settings import Settings

QUERY_COLUMNS: tuple[str, ...] = (
    "indicator", "area_code", "period", "freq", "value", "unit", "load_id", "vintage",
)
KEY = ("indicator", "area_code", "period")
PAGE_KEY = ("indicator", "area_code", "period_start", "period")  # the order of pages


def current_view(t: ir.Table, as_of: dt.datetime | None = None) -> ir.Table:
    """Latest vintage per (indicator, area_code, period), at or before ``as_of``."""
    if as_of is not None:
        t = t.filter(t.vintage <= ibis.literal(as_of, type="timestamp('UTC')"))
    w = ibis.window(group_by=[t.indicator, t.area_code, t.period],
                    order_by=[ibis.desc(t.vintage), ibis.desc(t.load_id)])
    return t.mutate(_rn=ibis.row_number().over(w)).filter(lambda x: x._rn == 0).drop("_rn")


def parse_as_of(value: str | dt.date | dt.datetime | None, tz: ZoneInfo
                ) -> dt.datetime | None:
    """``2025-06-30`` means the end of that day (in ``tz``); a datetime without zone is in
    ``tz``; the result is aware UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = (dt.date.fromisoformat(value) if len(value) == 10
                     else dt.datetime.fromisoformat(value))
        except ValueError:
            raise ValidationFailed("'{value}' is not a date or time.", code="bad_as_of",
                                   value=value) from None
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time.max)
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ValidationFailed("'{value}' is not a date or time.", code="bad_as_of",
                               value=str(value)) from None


@dataclass
class _DuckCache:
    con: duckdb.DuckDBPyConnection
    backend: Any
    files: set[str]
    signature: tuple[int, int, int]
    lock: threading.RLock
    summary: tuple[tuple[int, int, int], pd.DataFrame] | None = None  # per signature


_DUCK: dict[str, _DuckCache] = {}
_DUCK_LOCK = threading.Lock()
_SPARK: dict[int, Any] = {}


class ObservationStore:
    """Queries over the observations of one data folder."""

    def __init__(self, settings: Settings, backend: str | None = None,
                 spark_session: Any = None) -> None:
        self.settings = settings
        self.backend_name = backend or settings.query_backend
        self._spark_session = spark_session

    # --- backends ---------------------------------------------------------------------------

    def _duck(self) -> _DuckCache:
        key = str(batches.batches_dir(self.settings).resolve())
        sig = batches.signature(self.settings)
        with _DUCK_LOCK:
            cache = _DUCK.get(key)
            if cache is None:
                con = duckdb.connect()
                con.execute("SET TimeZone='UTC'")
                con.execute("SET enable_progress_bar=false")
                cache = _DuckCache(con, ibis.duckdb.from_connection(con), set(), (-1, -1, -1),
                                   threading.RLock())
                _DUCK[key] = cache
        if cache.signature != sig:
            with cache.lock:
                if cache.signature != sig:
                    self._refresh_duck(cache)
                    cache.signature = sig
        return cache

    def _refresh_duck(self, cache: _DuckCache) -> None:
        files = {str(p) for p in batches.visible_batches(self.settings)}
        new = sorted(files - cache.files)
        con = cache.con
        if cache.files and cache.files <= files:
            if new:
                self._add_batches(cache, new)
            return
        con.execute(f"CREATE OR REPLACE TABLE obs_all AS {_empty_select()}")
        if files:
            con.execute("INSERT INTO obs_all SELECT " + ", ".join(batches.BATCH_COLUMNS)
                        + " FROM read_parquet(?)", [sorted(files)])
        cache.files = set(files)
        self._rebuild_current(cache)

    def _rebuild_current(self, cache: _DuckCache) -> None:
        cur = current_view(cache.backend.table("obs_all"))
        cache.con.execute(f"CREATE OR REPLACE TABLE obs_current AS SELECT * FROM "
                          f"({ibis.to_sql(cur, 'duckdb')}) ORDER BY indicator, area_code, "
                          "period_start")

    def _add_batches(self, cache: _DuckCache, new: list[str]) -> None:
        """Append new batches; patch the current view in place when they are the newest
        vintages (the usual case), else rebuild it."""
        con = cache.con
        con.execute("CREATE OR REPLACE TEMP TABLE obs_new AS SELECT "
                    + ", ".join(batches.BATCH_COLUMNS) + " FROM read_parquet(?)", [new])
        newest = con.execute(
            "SELECT (SELECT min(vintage) FROM obs_new) >= coalesce((SELECT max(vintage) "
            "FROM obs_all), TIMESTAMPTZ '1970-01-01 00:00:00+00')").fetchall()[0][0]
        con.execute("INSERT INTO obs_all SELECT * FROM obs_new")
        cache.files |= set(new)
        if not newest:
            self._rebuild_current(cache)
            return
        cur = current_view(cache.backend.table("obs_new"))
        con.execute("DELETE FROM obs_current c USING obs_new n WHERE c.indicator = n.indicator "
                    "AND c.area_code = n.area_code AND c.period = n.period")
        con.execute(f"INSERT INTO obs_current SELECT * FROM ({ibis.to_sql(cur, 'duckdb')})")

    def _spark_backend(self) -> Any:
        if self._spark_session is None:
            from pyspark.sql import (  # lazy: optional engine, loaded only when configured
                SparkSession,  # lazy: optional engine, loaded only when configured
            )

            # no console progress bars and no web UI inside a server's process
            self._spark_session = (SparkSession.builder.master(self.settings.spark_master)
                                   .appName("citygrowth")
                                   .config("spark.ui.showConsoleProgress", "false")
                                   .config("spark.ui.enabled", "false").getOrCreate())
        sid = id(self._spark_session)
        if sid not in _SPARK:
            _SPARK[sid] = ibis.pyspark.connect(self._spark_session)
        return _SPARK[sid]

    @property
    def ibis_backend(self) -> Any:
        if self.backend_name == "pyspark":
            return self._spark_backend()
        return self._duck().backend

    # --- tables -----------------------------------------------------------------------------

    def all_table(self) -> ir.Table:
        """Every stored observation of every vintage."""
        if self.backend_name == "pyspark":
            files = [str(p) for p in batches.visible_batches(self.settings)]
            if not files:
                return ibis.memtable(_empty_frame())
            return self._spark_backend().read_parquet(str(batches.batches_dir(self.settings)))
        cache = self._duck()
        with cache.lock:  # the schema lookup runs on the shared connection
            return cache.backend.table("obs_all")

    def table(self, as_of: dt.datetime | None = None) -> ir.Table:
        """The current view (or the view as of ``as_of``) as an Ibis table expression."""
        if self.backend_name != "pyspark" and as_of is None:
            cache = self._duck()
            with cache.lock:  # the schema lookup runs on the shared connection
                return cache.backend.table("obs_current")
        return current_view(self.all_table(), as_of)

    def execute(self, expr: ir.Table) -> pd.DataFrame:
        if self.backend_name == "pyspark":
            return self._spark_backend().execute(expr)
        cache = self._duck()
        with cache.lock:
            return cache.backend.execute(expr)

    # --- queries ----------------------------------------------------------------------------

    def filtered(self, indicators: list[str] | None = None, area_codes: list[str] | None = None,
                 start: str | Period | None = None, end: str | Period | None = None,
                 as_of: dt.datetime | None = None, level: str | None = None) -> ir.Table:
        t = self.table(as_of)
        if indicators:
            t = t.filter(t.indicator.isin(list(indicators)))
        if area_codes:
            t = t.filter(t.area_code.isin(list(area_codes)))
        if level:
            if level not in CODE_LENGTH:
                raise ValidationFailed("Unknown area level '{level}'.", code="bad_level",
                                       level=level)
            t = t.filter(t.area_code.length() == CODE_LENGTH[level])
        if start is not None:
            t = t.filter(t.period_start >= Period.parse(start).start)
        if end is not None:
            t = t.filter(t.period_start <= Period.parse(end).end)
        return t

    def query(self, indicators: list[str] | None = None, area_codes: list[str] | None = None,
              start: str | Period | None = None, end: str | Period | None = None,
              as_of: dt.datetime | None = None, level: str | None = None) -> pd.DataFrame:
        """Observations of the current (or as-of) view, sorted by indicator, area, period."""
        if self.backend_name != "pyspark":
            return self._duck_query(indicators, area_codes, start, end, as_of, level)
        t = self.filtered(indicators, area_codes, start, end, as_of, level)
        expr = t.order_by([t.indicator, t.area_code, t.period_start]).select(*QUERY_COLUMNS)
        return _normalise(self.execute(expr))

    def _duck_query(self, indicators: list[str] | None, area_codes: list[str] | None,
                    start: str | Period | None, end: str | Period | None,
                    as_of: dt.datetime | None, level: str | None) -> pd.DataFrame:
        """The same query as the Ibis path, as one parameterised SQL statement on the cached
        tables (dashboards call this on every refresh)."""
        table, where, params = _sql_filter(indicators or None, area_codes or None, start, end,
                                           as_of, level)
        sql = (f"SELECT {', '.join(QUERY_COLUMNS)} FROM {table} WHERE {' AND '.join(where)} "
               "ORDER BY indicator, area_code, period_start")
        cache = self._duck()
        with cache.lock:
            df = cache.con.execute(sql, params).df()
        return _normalise(df)

    def one_period(self, indicators: list[str], area_codes: list[str] | None = None,
                   level: str | None = None, period: str | None = None) -> pd.DataFrame:
        """The current view's observations of one ``period`` (by default the newest the
        filter finds), sorted as :meth:`query`: a map reads one period of thousands of
        areas, not their whole history."""
        if self.backend_name == "pyspark":
            df = self.query(indicators, area_codes, level=level)
            if period is None and not df.empty:
                period = str(df["period"].max())
            return df[df["period"] == period].reset_index(drop=True)
        table, where, params = _sql_filter(indicators or None, area_codes or None, None, None,
                                           None, level)
        pick = "?" if period is not None else "(SELECT max(period) FROM f)"
        sql = (f"WITH f AS (SELECT * FROM {table} WHERE {' AND '.join(where)}) SELECT "
               f"{', '.join(QUERY_COLUMNS)} FROM f WHERE period = {pick} "
               "ORDER BY indicator, area_code, period_start")
        cache = self._duck()
        with cache.lock:
            df = cache.con.execute(sql, [*params, *([period] if period is not None else [])]
                                   ).df()
        return _normalise(df)

    def page(self, indicators: list[str] | None = None, area_codes: list[str] | None = None,
             start: str | Period | None = None, end: str | Period | None = None,
             as_of: dt.datetime | None = None, level: str | None = None, *,
             prefixes: list[str] | None = None, after: tuple[Any, ...] | None = None,
             limit: int = 1000) -> list[tuple[Any, ...]]:
        """Up to ``limit`` rows of :meth:`query` after the row whose :data:`PAGE_KEY` is
        ``after`` (keyset pagination), only in areas under ``prefixes`` (None: everywhere),
        as tuples of :data:`QUERY_COLUMNS` and ``period_start``."""
        if self.backend_name == "pyspark":
            t = self._scoped_expr(indicators, area_codes, start, end, as_of, level, prefixes)
            if after is not None:
                a = [ibis.literal(v) for v in after]
                cols = [t[c] for c in PAGE_KEY]
                terms = [ibis.and_(*[c == v for c, v in zip(cols[:i], a[:i], strict=True)],
                                   cols[i] > a[i]) for i in range(len(cols))]
                t = t.filter(ibis.or_(*terms))
            expr = t.order_by(list(PAGE_KEY)).select(*QUERY_COLUMNS, "period_start").limit(limit)
            df = _normalise(self.execute(expr))
            df["period_start"] = pd.to_datetime(df["period_start"]).dt.date
            return [tuple(r) for r in df.astype(object).where(df.notna(), None)
                    .itertuples(index=False, name=None)]
        table, where, params = _sql_filter(indicators or None, area_codes or None, start, end,
                                           as_of, level)
        where, params = _with_prefixes(where, params, prefixes)
        if after is not None:
            where.append(f"({', '.join(PAGE_KEY)}) > (?, ?, ?, ?)")
            params.extend(after)
        sql = (f"SELECT {', '.join(QUERY_COLUMNS)}, period_start FROM {table} "
               f"WHERE {' AND '.join(where)} ORDER BY {', '.join(PAGE_KEY)} LIMIT {int(limit)}")
        cache = self._duck()
        with cache.lock:
            return cache.con.execute(sql, params).fetchall()

    def batches(self, indicators: list[str] | None = None,
                area_codes: list[str] | None = None, start: str | Period | None = None,
                end: str | Period | None = None, as_of: dt.datetime | None = None,
                level: str | None = None, *, prefixes: list[str] | None = None,
                rows: int = 50_000) -> Iterator[pa.RecordBatch]:
        """The rows of :meth:`query` (in the store's order) as Arrow record batches of about
        ``rows`` rows, read as they are sent: exports never hold them all. With DuckDB the
        read runs on a cursor of its own, so dashboards are not held up meanwhile."""
        if self.backend_name == "pyspark":
            t = self._scoped_expr(indicators, area_codes, start, end, as_of, level, prefixes)
            yield from t.select(*QUERY_COLUMNS).to_pyarrow_batches(chunk_size=rows)
            return
        table, where, params = _sql_filter(indicators or None, area_codes or None, start, end,
                                           as_of, level)
        where, params = _with_prefixes(where, params, prefixes)
        sql = f"SELECT {', '.join(QUERY_COLUMNS)} FROM {table} WHERE {' AND '.join(where)}"
        cache = self._duck()
        with cache.lock:
            cursor = cache.con.cursor()
        try:
            reader = cursor.sql(sql, params=params).to_arrow_reader(rows)
            yield from reader
        finally:
            cursor.close()

    def _scoped_expr(self, indicators: list[str] | None, area_codes: list[str] | None,
                     start: str | Period | None, end: str | Period | None,
                     as_of: dt.datetime | None, level: str | None,
                     prefixes: list[str] | None) -> ir.Table:
        t = self.filtered(indicators, area_codes, start, end, as_of, level)
        if prefixes is not None:
            t = t.filter(ibis.or_(ibis.literal(False),
                                  *[t.area_code.startswith(p) for p in prefixes]))
        return t

    def frame(self, indicators: list[str], area_codes: list[str] | None = None,
              level: str | None = None, as_of: dt.datetime | None = None,
              columns: tuple[str, ...] = ("indicator", "area_code", "period", "value",
                                          "load_id")) -> pd.DataFrame:
        """A bulk read of the current (or as-of) view for checks and exports: only
        ``columns``, in no particular order, text columns as pandas categoricals (millions of
        rows in a second, where :meth:`query` sorts and builds a string per cell); the
        categories are in lexical order."""
        bad = [c for c in columns if c not in batches.BATCH_COLUMNS]
        if bad:
            raise ValidationFailed("Unknown column {column}.", code="bad_column",
                                   column=bad[0])
        if self.backend_name == "pyspark":
            out = self.query(indicators, area_codes, as_of=as_of, level=level)
            return out[list(columns)]
        table, where, params = _sql_filter(indicators, area_codes, None, None, as_of, level)
        sql = f"SELECT {', '.join(columns)} FROM {table} WHERE {' AND '.join(where)}"
        cache = self._duck()
        with cache.lock:
            table_ = cache.con.sql(sql, params=params).to_arrow_table()

        cols = {}
        for name in table_.column_names:
            col = table_[name]
            if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
                col = pc.dictionary_encode(col)
            cols[name] = col
        out = pa.table(cols).to_pandas()
        for name in out.columns:  # categories in lexical order, so sorting reads naturally
            if isinstance(out[name].dtype, pd.CategoricalDtype):
                out[name] = out[name].cat.reorder_categories(
                    sorted(out[name].cat.categories))
        if "vintage" in out and len(out):
            out["vintage"] = pd.to_datetime(out["vintage"], utc=True)
        return out

    def rollup(self, indicators: str | list[str], to_level: str, *,
               from_level: str | None = None, start: str | Period | None = None,
               end: str | Period | None = None, as_of: dt.datetime | None = None,
               framework: Framework) -> pd.DataFrame:
        """Each indicator's values aggregated up to ``to_level`` by its own roll-up rule (of
        ``framework``)."""
        codes = [indicators] if isinstance(indicators, str) else list(indicators)
        exprs = [rollup_expr(self, code, to_level, from_level=from_level, start=start, end=end,
                             as_of=as_of, framework=framework) for code in codes]
        expr = exprs[0] if len(exprs) == 1 else ibis.union(*exprs)
        expr = expr.order_by([expr.indicator, expr.area_code, expr.period])
        out = self.execute(expr)
        out["value"] = out["value"].astype(float)
        return out.reset_index(drop=True)

    def periods(self, indicator: str) -> list[str]:
        t = self.table()
        expr = t.filter(t.indicator == indicator).select("period", "period_start").distinct()
        df = self.execute(expr.order_by("period_start"))
        return [str(p) for p in df["period"]]

    def summary(self) -> pd.DataFrame:
        """Per indicator: rows in the current view, latest period, latest vintage (with
        DuckDB, computed once per state of the batches: dashboards ask for it on every call)."""
        if self.backend_name != "pyspark":
            cache = self._duck()
            sig = cache.signature
            if cache.summary is not None and cache.summary[0] == sig:
                return cache.summary[1].copy()
        t = self.table()
        expr = t.group_by("indicator").aggregate(
            rows=t.count(), last_period_start=t.period_start.max(), last_vintage=t.vintage.max())
        if self.backend_name == "pyspark":
            return self.execute(expr)
        out = self.execute(expr)
        cache.summary = (sig, out)
        return out.copy()

    def freshness(self, session: Session, fw: Framework,
                  today: dt.date) -> list[dict[str, Any]]:
        """Per indicator of ``fw``: its last period, when the next is due, whether it is late."""
        return freshness(session, self, fw, today)


def _sql_filter(indicators: list[str] | None, area_codes: list[str] | None,
                start: str | Period | None, end: str | Period | None,
                as_of: dt.datetime | None, level: str | None
                ) -> tuple[str, list[str], list[Any]]:
    """The table (current view, or the view as of ``as_of``), WHERE terms and parameters of
    a query on the cached DuckDB tables."""
    where: list[str] = ["true"]
    params: list[Any] = []
    if indicators is not None:
        where.append("list_contains(?, indicator)")
        params.append(list(indicators))
    if area_codes is not None:
        where.append("list_contains(?, area_code)")
        params.append(list(area_codes))
    if level:
        if level not in CODE_LENGTH:
            raise ValidationFailed("Unknown area level '{level}'.", code="bad_level",
                                   level=level)
        where.append(f"length(area_code) = {CODE_LENGTH[level]}")
    if start is not None:
        where.append("period_start >= ?")
        params.append(Period.parse(start).start)
    if end is not None:
        where.append("period_start <= ?")
        params.append(Period.parse(end).end)
    table = "obs_current"
    if as_of is not None:
        table = ("(SELECT * FROM obs_all WHERE vintage <= ? QUALIFY row_number() OVER ("
                 "PARTITION BY indicator, area_code, period ORDER BY vintage DESC, "
                 "load_id DESC) = 1)")
        params.insert(0, as_of)
    return table, where, params


def _with_prefixes(where: list[str], params: list[Any], prefixes: list[str] | None
                   ) -> tuple[list[str], list[Any]]:
    """``where`` limited to area codes under ``prefixes`` (None: no limit; []: nothing)."""
    if prefixes is None:
        return where, params
    terms = " OR ".join(["starts_with(area_code, ?)"] * len(prefixes)) or "false"
    return [*where, f"({terms})"], [*params, *prefixes]


def _empty_select() -> str:
    return ("SELECT NULL::VARCHAR AS indicator, NULL::VARCHAR AS area_code, "
            "NULL::VARCHAR AS period, NULL::VARCHAR AS freq, NULL::DATE AS period_start, "
            "NULL::DOUBLE AS value, NULL::VARCHAR AS unit, NULL::VARCHAR AS load_id, "
            "NULL::TIMESTAMPTZ AS vintage WHERE false")


def _empty_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "indicator": pd.Series([], dtype="string"), "area_code": pd.Series([], dtype="string"),
        "period": pd.Series([], dtype="string"), "freq": pd.Series([], dtype="string"),
        "period_start": pd.Series([], dtype="datetime64[s]"),
        "value": pd.Series([], dtype="float64"), "unit": pd.Series([], dtype="string"),
        "load_id": pd.Series([], dtype="string"),
        "vintage": pd.Series([], dtype="datetime64[us, UTC]"),
    })


def _normalise(df: pd.DataFrame) -> pd.DataFrame:
    df = df.reset_index(drop=True)
    if "vintage" in df and len(df):
        df["vintage"] = pd.to_datetime(df["vintage"], utc=True)
    if "value" in df:
        df["value"] = df["value"].astype(float)
    return df


def level_rank(level: str) -> int:
    return LEVELS.index(level)


def store_path(settings: Settings) -> Path:
    return batches.observations_dir(settings)
