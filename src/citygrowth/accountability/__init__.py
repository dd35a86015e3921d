"""citygrowth.accountability"""
