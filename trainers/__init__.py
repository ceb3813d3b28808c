"""Trainers; importing this package registers them in Dassl's TRAINER_REGISTRY and their config
nodes in ``run.config`` and their family config aliases in ``run.config_aliases``.

``TRAINERS`` lists every method once; the benchmark's, the tests' and the results tools' method
tables derive from it and from each trainer's declarations.
"""

import dassl_setup  # noqa: F401  (before any dassl import)

# isort: split
from run.config import register_method_node
from run.config_aliases import register_family_aliases

from .cocoop import CoCoOp
from .coop import CoOp
from .hicropl import HiCroPL
from .ivlp import IVLP
from .kgcoop import KgCoOp
from .maple import MaPLe
from .prograd import ProGrad
from .promptsrc import PromptSRC
from .sep import SEP
from .tcp import TCP
from .zsclip import ZeroshotCLIP

TRAINERS = (
    ZeroshotCLIP,
    CoOp,
    CoCoOp,
    KgCoOp,
    SEP,
    IVLP,
    MaPLe,
    PromptSRC,
    HiCroPL,
    ProGrad,
    TCP,
)

for _trainer in TRAINERS:
    register_method_node(_trainer.METHOD_CFG, _trainer.config_node)
    register_family_aliases(_trainer.__name__, _trainer.FAMILY_CONFIG_ALIASES)


def method_table():
    """Trainer name -> (its config node, its published config file under configs/trainers/)."""
    return {
        trainer.__name__: (trainer.METHOD_CFG, f"{trainer.__name__}/{trainer.PUBLISHED_CONFIG}")
        for trainer in TRAINERS
    }


def trainer_class(name):
    """The trainer class registered as ``name`` (KeyError for an unknown name)."""
    return {trainer.__name__: trainer for trainer in TRAINERS}[name]


def tiny_depth_options(name):
    """The yacs options that fit ``name``'s prompt depths to the tiny CLIP (may be empty)."""
    return trainer_class(name).TINY_DEPTH_OPTIONS
