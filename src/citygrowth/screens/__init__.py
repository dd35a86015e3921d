"""Screens: the leadership big screen, indicator explorer, area profiles, index workbench
and data health."""
