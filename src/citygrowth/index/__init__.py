"""citygrowth.index"""
