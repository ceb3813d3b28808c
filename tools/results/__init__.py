"""Turn the run directories the scripts write into per-seed numbers and comparison tables.

Nothing here imports Dassl or torch: results can be read on any machine that has the output tree.
"""
