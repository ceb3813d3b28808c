"""The CoOp family's option names and values, read as the keys of this project's config.

KgCoOp's and SEP's authors keep their options under ``TRAINER.COOP`` (KgCoOp's weight is
``TRAINER.COOP.W``; SEP adds ``N_CTX_V``, ``W_V`` and ``L_IND``), and their configs write
``CTX_INIT: True`` / ``False`` where this project takes the phrase itself. Here those names are
documented aliases: each is rewritten to the key this project reads, with a one-line note that
train.py prints into the run's log. An alias that has no faithful translation is refused with a
message naming what to write instead.

Each trainer declares its own table (``PromptTrainer.FAMILY_CONFIG_ALIASES``), which
``trainers/__init__.py`` registers here by trainer name; a boolean ``CTX_INIT`` is read for
every method config node that has a ``CTX_INIT`` phrase.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from yacs.config import CfgNode

from .user_errors import ConfigError

# What KgCoOp's and SEP's prompt learners use when CTX_INIT is true: a fixed phrase
# (and as many context tokens as it has words), whatever N_CTX says.
FAMILY_INIT_PHRASE = "a photo of a"


def _same(value, key):
    return value


def family_ctx_init(value, key):
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


def only_value(expected, what):
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

# Trainer name -> family key -> alias; filled by ``register_family_aliases``.
FAMILY_ALIASES: dict[str, Mapping[str, Alias]] = {}


def register_family_aliases(trainer: str, aliases: Mapping[str, Alias]) -> None:
    """Read the family keys of ``aliases`` as ``trainer``'s (its FAMILY_CONFIG_ALIASES)."""
    if trainer in FAMILY_ALIASES and FAMILY_ALIASES[trainer] != aliases:
        raise ValueError(f"Two family config alias tables registered for {trainer}")
    FAMILY_ALIASES[trainer] = aliases


def _takes_boolean_ctx_init(key: str, cfg: CfgNode) -> bool:
    """Whether ``key`` is the ``CTX_INIT`` phrase of a method config node of ``cfg``."""
    parts = key.upper().split(".")
    if len(parts) != 3 or parts[0] != "TRAINER" or parts[2] != "CTX_INIT":
        return False
    node = cfg.TRAINER.get(parts[1])
    return isinstance(node, CfgNode) and isinstance(node.get("CTX_INIT"), str)


def resolve_alias(key: str, value, trainer: str | None, cfg: CfgNode):
    """``(our key or None, value)`` for ``key``/``value`` as the family writes them, and a note
    for the log when anything was rewritten (``None`` otherwise)."""
    alias = FAMILY_ALIASES.get(trainer or "", {}).get(key.upper())
    if alias is None:
        if isinstance(value, bool) and _takes_boolean_ctx_init(key, cfg):
            translated = _ctx_init_false_only(value, key)
            return key, translated, f'{key} {value} read as {key} "{translated}" (random context)'
        return key, value, None
    translated = alias.translate(value, key)
    if alias.key is None:
        return None, None, f"{key} {value!r} ignored: {trainer} has no such option here"
    shown = f"{alias.key} {translated!r}" if translated != value else alias.key
    return alias.key, translated, f"{key} {value!r} read as {shown} ({trainer}'s alias)"
