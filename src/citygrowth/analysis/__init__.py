"""citygrowth.analysis"""
