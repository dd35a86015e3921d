"""citygrowth.web"""
