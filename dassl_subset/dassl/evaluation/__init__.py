from .build import EVALUATOR_REGISTRY, build_evaluator  # noqa: F401  isort:skip
from .evaluator import Classification, EvaluatorBase  # noqa: F401
