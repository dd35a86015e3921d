"""citygrowth.auth"""
