"""Holiday notices: the State Council's yearly holiday arrangement (放假调休安排), loaded by an
administrator so the working-day calendar does not run out when the chinese_calendar package
has not caught up. See docs/operating.md, "The holiday calendar"."""
