"""SDMX 2.1: the City Growth Index observations as a dataflow (structures, data, REST, pull)."""
