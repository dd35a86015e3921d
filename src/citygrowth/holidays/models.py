"""The holidays domain's tables: one notice per year and the days it changes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from citygrowth.db import Base, UTCDateTime, utcnow

KINDS = ("holiday", "workday")


class HolidayNotice(Base):
    """A year's holiday arrangement as published by the State Council (国务院办公厅关于…年
    部分节假日安排的通知). Days it does not list follow the week: Monday–Friday working."""

    __tablename__ = "holiday_notices"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(String(300))
    document: Mapped[str] = mapped_column(String(100), default="")
    published_on: Mapped[dt.date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(300), default="")
    loaded_by: Mapped[str] = mapped_column(String(80))
    loaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    days: Mapped[list[HolidayDay]] = relationship(
        back_populates="notice", cascade="all, delete-orphan", order_by="HolidayDay.day")


class HolidayDay(Base):
    """A day a notice changes: a holiday (off, weekend days of a break included) or a make-up
    working day (调休上班)."""

    __tablename__ = "holiday_days"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(
        ForeignKey("holiday_notices.year", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # holiday | workday
    name: Mapped[str] = mapped_column(String(60), default="")
    notice: Mapped[HolidayNotice] = relationship(back_populates="days")
