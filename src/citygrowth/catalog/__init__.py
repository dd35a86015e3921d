"""citygrowth.catalog"""
