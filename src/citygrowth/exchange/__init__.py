"""citygrowth.exchange"""
