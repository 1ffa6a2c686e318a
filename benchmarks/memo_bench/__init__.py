"""Benchmarks: LoCoMo evidence recall and the scale (cost) curve, for MeMo and its peers.

Nothing here is imported by the library; third-party peers are imported only when chosen.
"""
