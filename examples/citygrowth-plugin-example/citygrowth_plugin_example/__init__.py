"""Example citygrowth plugin: street notices."""
