"""Make ``import dassl`` work with or without Dassl.pytorch installed.

The built-in subset under ``dassl_subset/`` is appended to the *end* of ``sys.path``, so a real
Dassl that is installed (or on PYTHONPATH) is always found first. Import this module before
anything that imports ``dassl``.
"""
import os
import sys

BUILTIN_SUBSET_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dassl_subset")

if BUILTIN_SUBSET_ROOT not in sys.path:
    sys.path.append(BUILTIN_SUBSET_ROOT)
