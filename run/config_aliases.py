"""The CoOp family's option names and values, read as the keys of this project's config.

KgCoOp's and SEP's authors keep their options under ``TRAINER.COOP`` (KgCoOp's weight is
``TRAINER.COOP.W``; SEP adds ``N_CTX_V``, ``W_V`` and ``L_IND``), and their configs write
``CTX_INIT: True`` / ``False`` where this project takes the phrase itself. Here those names are
documented aliases: each is rewritten to the key this project reads, with a one-line note that
train.py prints into the run's log. An alias that has no faithful translation is refused with a
message naming what to write instead.
"""

from collections.abc import Callable
from dataclasses import dataclass

from .user_errors import ConfigError

# What KgCoOp's and SEP's prompt learners use when CTX_INIT is true: a fixed phrase
# (and as many context tokens as it has words), whatever N_CTX says.
FAMILY_INIT_PHRASE = "a photo of a"
# SEP's authors pick the token-fusion blocks by an index into this table (TRAINER.COOP.L_IND);
# index 0 is every block after the first, which is TRAINER.SEP.FUSION_LAYERS () here.
SEP_FUSION_LAYER_TABLE = (
    (),
    (1, 2, 3, 4, 5, 6, 7, 8),
    (5, 6, 7, 8, 9, 10, 11),
    (1, 3, 5, 7, 9, 11),
    (2, 4, 6, 8, 10),
    (3, 6, 9),
    (4, 8, 10),
    (4, 8),
    (4, 10),
    (4, 6),
    (8, 10),
    (2,),
    (6,),
    (1,),
    (3,),
    (5,),
    (7,),
    (9,),
    (10,),
    (11,),
)


def _same(value, key):
    return value


def _family_ctx_init(value, key):
    """KgCoOp / SEP: ``True`` means their fixed phrase, ``False`` random context."""
    if isinstance(value, bool):
        return FAMILY_INIT_PHRASE if value else ""
    return value


def _ctx_init_false_only(value, key):
    """CoOp / CoCoOp and the rest: ``False`` (random context) has a meaning; ``True`` meant a
    phrase picked in another repository's code, which is not ours to guess."""
    if value is False:
        return ""
    if value is True:
        raise ConfigError(
            f'"{key}: True" names no phrase in this project: write the phrase itself, e.g. '
            f'{key} "a photo of a" (or "" for random context).'
        )
    return value


def _sep_fusion_layers(value, key):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f'"{key}" is an index into SEP\'s layer table, got {value!r}.')
    if not 0 <= value < len(SEP_FUSION_LAYER_TABLE):
        raise ConfigError(
            f'"{key}" {value} is not an index of SEP\'s layer table (0..'
            f"{len(SEP_FUSION_LAYER_TABLE) - 1}); give TRAINER.SEP.FUSION_LAYERS as a list."
        )
    return SEP_FUSION_LAYER_TABLE[value]


def _only(expected, what):
    """A family option this trainer has no key for: its default value is what happens here
    anyway, any other value is refused."""

    def translate(value, key):
        if value != expected:
            raise ConfigError(f'"{key}" {value!r}: {what}; only {expected!r} is supported.')
        return value

    return translate


@dataclass(frozen=True)
class Alias:
    key: str | None  # our key; None: accepted and ignored (the authors' trainer ignores it too)
    translate: Callable = _same


IGNORED = Alias(None)

KGCOOP_ALIASES = {
    "TRAINER.COOP.N_CTX": Alias("TRAINER.KGCOOP.N_CTX"),
    "TRAINER.COOP.CSC": Alias("TRAINER.KGCOOP.CSC"),
    "TRAINER.COOP.CTX_INIT": Alias("TRAINER.KGCOOP.CTX_INIT", _family_ctx_init),
    "TRAINER.COOP.W": Alias("TRAINER.KGCOOP.W"),
    "TRAINER.COOP.PREC": Alias("TRAINER.KGCOOP.PREC"),
    "TRAINER.COOP.CLASS_TOKEN_POSITION": Alias("TRAINER.KGCOOP.CLASS_TOKEN_POSITION"),
    "TRAINER.COOP.ALPHA": IGNORED,  # declared by KgCoOp's train.py, read by no trainer
}

SEP_ALIASES = {
    "TRAINER.COOP.N_CTX": Alias("TRAINER.SEP.N_CTX_TEXT"),
    "TRAINER.COOP.N_CTX_V": Alias("TRAINER.SEP.N_CTX_VISION"),
    "TRAINER.COOP.CTX_INIT": Alias("TRAINER.SEP.CTX_INIT", _family_ctx_init),
    "TRAINER.COOP.W": Alias("TRAINER.SEP.W_TEXT"),
    "TRAINER.COOP.W_V": Alias("TRAINER.SEP.W_VISUAL"),
    "TRAINER.COOP.L_IND": Alias("TRAINER.SEP.FUSION_LAYERS", _sep_fusion_layers),
    "TRAINER.COOP.PREC": Alias("TRAINER.SEP.PREC"),
    "TRAINER.COOP.CSC": Alias(None, _only(False, "SEP has no class-specific context")),
    "TRAINER.COOP.CLASS_TOKEN_POSITION": Alias(
        None, _only("end", "SEP puts the class name after its context")
    ),
    "TRAINER.COOP.ALPHA": IGNORED,  # declared by SEP's train.py, read by no trainer
}

# Trainer name -> family key -> alias. Every trainer also takes a boolean CTX_INIT (below).
ALIASES = {"KgCoOp": KGCOOP_ALIASES, "SEP": SEP_ALIASES}
CTX_INIT_KEYS = tuple(
    f"TRAINER.{node}.CTX_INIT"
    for node in ("COOP", "COCOOP", "KGCOOP", "MAPLE", "IVLP", "PROMPTSRC", "SEP")
)


def resolve_alias(key: str, value, trainer: str | None):
    """``(our key or None, value)`` for ``key``/``value`` as the family writes them, and a note
    for the log when anything was rewritten (``None`` otherwise)."""
    alias = ALIASES.get(trainer, {}).get(key.upper())
    if alias is None:
        if isinstance(value, bool) and key.upper() in CTX_INIT_KEYS:
            translated = _ctx_init_false_only(value, key)
            return key, translated, f'{key} {value} read as {key} "{translated}" (random context)'
        return key, value, None
    translated = alias.translate(value, key)
    if alias.key is None:
        return None, None, f"{key} {value!r} ignored: {trainer} has no such option here"
    shown = f"{alias.key} {translated!r}" if translated != value else alias.key
    return alias.key, translated, f"{key} {value!r} read as {shown} ({trainer}'s alias)"
