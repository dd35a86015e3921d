"""citygrowth.governance"""
