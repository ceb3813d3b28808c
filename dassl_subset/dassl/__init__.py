"""Built-in, API-compatible subset of Dassl.pytorch (used only when the real package is absent).

Only the parts CoOp-family trainers touch are provided: config defaults, the dataset base class,
data loading, optimisers and schedulers, checkpointing, the evaluator and the TrainerX loop.
"""

IS_BUILTIN_SUBSET = True
__version__ = "0.6.3+subset"
