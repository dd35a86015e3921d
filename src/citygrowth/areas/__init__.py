"""citygrowth.areas"""
