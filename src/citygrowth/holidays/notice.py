"""Reading a year's holiday notice: a YAML (or JSON) file, a CSV file, or the admin page's form.

YAML::

    year: 2027
    title: 国务院办公厅关于2027年部分节假日安排的通知
    document: 国办发明电〔2026〕12号        # optional
    published: 2026-11-12                  # optional
    holidays:                              # days off, weekend days of a break included
      - {name: 元旦, date: 2027-01-01}
      - {name: 春节, from: 2027-02-05, to: 2027-02-12}
    workdays:                              # make-up working days (调休上班)
      - {name: 春节, date: 2027-01-31}

CSV (UTF-8, header ``date,kind,name``; ``kind`` is ``holiday``/``workday`` or 放假/上班; a
``to`` column may close a range)::

    date,kind,name,to
    2027-01-01,holiday,元旦,
    2027-02-05,holiday,春节,2027-02-12
    2027-01-31,workday,春节,

The form has one line per holiday or range (``2027-02-05..2027-02-12 春节``, also written
``2027-02-05 至 2027-02-12 春节``) and one line per make-up working day (``2027-01-31 春节``).

Every mistake is named with its file, row and field; nothing is loaded when there is one.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import yaml

from citygrowth.errors import Problem, ValidationFailed
from citygrowth.i18n import N_

MAX_BYTES = 64 * 1024
MAX_RANGE_DAYS = 31
KIND_WORDS = {"holiday": "holiday", "off": "holiday", "放假": "holiday", "休": "holiday",
              "workday": "workday", "work": "workday", "上班": "workday", "班": "workday"}
LINE = re.compile(r"^\s*(\d{4}-\d{1,2}-\d{1,2})\s*(?:(?:\.\.|至|到|~|～|—|–)\s*"
                  r"(\d{4}-\d{1,2}-\d{1,2}))?\s*(.*?)\s*$")


@dataclass
class NoticeInput:
    """A parsed notice: holidays and make-up working days with their festival names."""

    year: int
    title: str
    document: str = ""
    published_on: dt.date | None = None
    source: str = ""
    holidays: dict[dt.date, str] = field(default_factory=dict)
    workdays: dict[dt.date, str] = field(default_factory=dict)


def default_title(year: int) -> str:
    return f"国务院办公厅关于{year}年部分节假日安排的通知"


class _Collector:
    def __init__(self, file: str | None) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.rows: dict[dt.date, int | None] = {}  # the row (line, entry) that listed a day

    def add(self, message: str, *, row: int | None = None, field: str | None = None,
            value: Any = None, **params: Any) -> None:
        if value is not None:
            params.setdefault("value", value)
        self.problems.append(Problem(message, params, file=self.file, row=row, field=field,
                                     value=value))

    def fail(self) -> ValidationFailed:
        """The error carrying every problem, in the order of the input."""
        self.problems.sort(key=lambda p: (p.row is None, p.row or 0))
        return ValidationFailed(N_("The holiday notice has mistakes; nothing was loaded."),
                                code="bad_notice", problems=self.problems)

    def date(self, value: Any, row: int | None, name: str) -> dt.date | None:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        text = str(value or "").strip()
        try:
            y, m, d = (int(p) for p in text.split("-"))
            return dt.date(y, m, d)
        except (ValueError, TypeError):
            self.add(N_("'{value}' is not a date (write YYYY-MM-DD)."), row=row, field=name,
                     value=text[:40])
            return None

    def span(self, start: Any, end: Any, row: int | None,
             names: tuple[str, str] = ("from", "to")) -> list[dt.date]:
        a = self.date(start, row, names[0])
        b = self.date(end, row, names[1]) if end not in (None, "") else a
        if a is None or b is None:
            return []
        if b < a or (b - a).days >= MAX_RANGE_DAYS:
            self.add(N_("The range {start} to {end} is not valid (at most {n} days, end not "
                        "before start)."), row=row, field=names[1], start=a.isoformat(),
                     end=b.isoformat(), n=MAX_RANGE_DAYS)
            return []
        return [a + dt.timedelta(days=i) for i in range((b - a).days + 1)]


def _put(c: _Collector, target: dict[dt.date, str], days: list[dt.date], name: str,
         row: int | None, field_name: str) -> None:
    for day in days:
        if day in target:
            c.add(N_("{day} is listed twice."), row=row, field=field_name, value=day.isoformat(),
                  day=day.isoformat())
        target[day] = name
        c.rows[day] = row


def check(c: _Collector, n: NoticeInput) -> None:
    """The checks every source shares: one year, no day both off and on, make-up days on
    weekends, names present."""
    if not 2000 <= n.year <= 2100:
        c.add(N_("The year must be between 2000 and 2100."), field="year", value=n.year)
    if not n.title.strip():
        c.add(N_("The notice needs a title."), field="title")
    if len(n.title) > 300 or len(n.document) > 100:
        c.add(N_("The title (300) or the document number (100) is too long."), field="title")
    if not n.holidays:
        c.add(N_("The notice lists no holidays."), field="holidays")
    for kind, days in (("holidays", n.holidays), ("workdays", n.workdays)):
        for day, name in days.items():
            if day.year != n.year:
                c.add(N_("{day} is not in {year}: a notice covers one year."), row=c.rows.get(day),
                      field=kind, value=day.isoformat(), day=day.isoformat(), year=n.year)
            if not name.strip() or len(name) > 60:
                c.add(N_("{day} needs the name of its festival (at most 60 characters)."),
                      row=c.rows.get(day), field=kind, value=day.isoformat(),
                      day=day.isoformat())
    for day in sorted(set(n.holidays) & set(n.workdays)):
        c.add(N_("{day} is listed both as a holiday and as a make-up working day."),
              row=c.rows.get(day), field="workdays", value=day.isoformat(), day=day.isoformat())
    for day in sorted(n.workdays):
        if day.weekday() < 5:
            c.add(N_("{day} is a weekday, a working day anyway: make-up working days fall on "
                     "weekends."), row=c.rows.get(day), field="workdays", value=day.isoformat(),
                  day=day.isoformat())
    if c.problems:
        raise c.fail()


def _int(c: _Collector, value: Any, name: str) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        c.add(N_("'{value}' is not a year."), field=name, value=str(value)[:20])
        return 0


def parse_mapping(data: Any, file: str) -> NoticeInput:
    """A notice from parsed YAML/JSON (see the module's doc)."""
    c = _Collector(file)
    if not isinstance(data, dict):
        c.add(N_("The file must hold a mapping with year, title, holidays and workdays."))
        raise c.fail()
    year = _int(c, data.get("year"), "year")
    published = data.get("published")
    n = NoticeInput(year=year, title=str(data.get("title") or default_title(year)).strip(),
                    document=str(data.get("document") or "").strip(),
                    published_on=c.date(published, None, "published") if published else None,
                    source=file)
    for kind, target in (("holidays", n.holidays), ("workdays", n.workdays)):
        entries = data.get(kind) or []
        if not isinstance(entries, list):
            c.add(N_("'{field}' must be a list."), field=kind, value=type(entries).__name__)
            continue
        for i, entry in enumerate(entries, start=1):
            if not isinstance(entry, dict):
                c.add(N_("Each entry needs a name and a date (or from and to)."), row=i,
                      field=kind)
                continue
            days = (c.span(entry.get("date"), None, i, ("date", "date")) if "date" in entry
                    else c.span(entry.get("from"), entry.get("to"), i))
            _put(c, target, days, str(entry.get("name") or "").strip(), i, kind)
    unknown = set(data) - {"year", "title", "document", "published", "holidays", "workdays"}
    for key in sorted(unknown):
        c.add(N_("Unknown field '{field}'."), field=str(key))
    check(c, n)
    return n


def parse_csv(text: str, file: str, title: str = "", document: str = "") -> NoticeInput:
    """A notice from CSV rows ``date,kind,name[,to]``; the year is the dates' year."""
    c = _Collector(file)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if not {"date", "kind", "name"} <= set(header):
        c.add(N_("The CSV header must be date,kind,name (and optionally to)."), row=1,
              value=",".join(header)[:80])
        raise c.fail()
    holidays: dict[dt.date, str] = {}
    workdays: dict[dt.date, str] = {}
    for i, raw in enumerate(reader, start=2):
        row = {str(k).strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        if not any(row.values()):
            continue
        kind = KIND_WORDS.get(row.get("kind", "").lower())
        if kind is None:
            c.add(N_("'{value}' is not a kind: write holiday or workday."), row=i,
                  field="kind", value=row.get("kind", "")[:20])
            continue
        days = c.span(row.get("date"), row.get("to") or None, i, ("date", "to"))
        _put(c, holidays if kind == "holiday" else workdays, days, row.get("name", ""), i,
             "date")
    # the notice's year is the year most of its days are in; days of other years are named
    years = Counter(d.year for d in [*holidays, *workdays]).most_common()
    year = years[0][0] if years else 0
    n = NoticeInput(year=year, title=title.strip() or default_title(year),
                    document=document.strip(), source=file, holidays=holidays,
                    workdays=workdays)
    check(c, n)
    return n


def parse_file(data: bytes, file: str, title: str = "", document: str = "") -> NoticeInput:
    """A notice from an uploaded or given file: CSV by its name, else YAML or JSON."""
    c = _Collector(file)
    if len(data) > MAX_BYTES:
        c.add(N_("The file is larger than {n} KiB."), n=MAX_BYTES // 1024)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        c.add(N_("The file is not UTF-8 text."))
        text = ""
    if c.problems:
        raise c.fail()
    if file.lower().endswith(".csv"):
        return parse_csv(text, file, title, document)
    try:
        parsed = (json.loads(text) if file.lower().endswith(".json")
                  else yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))  # noqa: S506
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        c.add(N_("The file is not valid YAML or JSON: {detail}"), detail=str(exc)[:200])
        raise c.fail() from None
    notice = parse_mapping(parsed, file)
    if title.strip():
        notice.title = title.strip()
    if document.strip():
        notice.document = document.strip()
    return notice


def parse_form(year: str, title: str, document: str, holidays: str,
               workdays: str) -> NoticeInput:
    """A notice from the admin page's form: one holiday (or range) / make-up day per line."""
    c = _Collector(None)
    y = _int(c, year, "year")
    n = NoticeInput(year=y, title=title.strip() or default_title(y), document=document.strip(),
                    source="form")
    for kind, text, target in (("holidays", holidays, n.holidays),
                               ("workdays", workdays, n.workdays)):
        for i, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            m = LINE.match(line)
            if m is None:
                c.add(N_("Line {n}: write a date (YYYY-MM-DD), optionally '..' and an end "
                         "date, then the festival's name."), row=i, field=kind,
                      value=line.strip()[:60], n=i)
                continue
            if kind == "workdays" and m.group(2):
                c.add(N_("Line {n}: list make-up working days one by one."), row=i,
                      field=kind, value=line.strip()[:60], n=i)
                continue
            _put(c, target, c.span(m.group(1), m.group(2), i, (kind, kind)),
                 m.group(3).strip(), i, kind)
    check(c, n)
    return n


def to_yaml(n: NoticeInput) -> str:
    """The notice in the YAML form ``citygrowth calendar load`` reads (ranges joined)."""
    def entries(days: dict[dt.date, str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for day in sorted(days):
            last = out[-1] if out else None
            prev = last.get("to", last.get("date")) if last else None
            if last and last["name"] == days[day] and prev == day - dt.timedelta(days=1):
                last.pop("date", None)
                last["from"] = last.get("from", prev)
                last["to"] = day
            else:
                out.append({"name": days[day], "date": day})
        return [{k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in e.items()}
                for e in out]

    data: dict[str, Any] = {"year": n.year, "title": n.title}
    if n.document:
        data["document"] = n.document
    if n.published_on:
        data["published"] = n.published_on.isoformat()
    data["holidays"] = entries(n.holidays)
    data["workdays"] = entries(n.workdays)
    return str(yaml.safe_dump(data, allow_unicode=True, sort_keys=False,
                              default_flow_style=None))
