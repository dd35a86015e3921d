"""citygrowth.observatory"""
