"""citygrowth.ingest"""
