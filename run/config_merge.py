"""Merge YAML files and command-line options into the config, refusing what yacs cannot use.

yacs reports a typo as ``KeyError: 'Non-existent config key: OPTIM.MAX_EPOCHS'`` under a long
traceback, and a wrong type as ``Type mismatch (<class 'float'> vs. <class 'int'>) ...``. Here
every key and value is checked before yacs merges it, and a problem becomes a ConfigError that
names the key, where it came from (file or command line), the closest valid key and the
expected type.

Configs of the CoOp family load as their authors wrote them: an int where a float is expected
is widened (a float where an int is expected is still refused: it would be truncated), and the
option names and values of KgCoOp's and SEP's authors are read as documented aliases of ours
(run/config_aliases.py, the tables the trainers declare), each rewrite noted for the log.
"""

import difflib
import os

import yaml
from yacs.config import CfgNode

from .config_aliases import resolve_alias
from .user_errors import ConfigError

COMMAND_LINE = "on the command line"
YAML_EXTENSIONS = (".yaml", ".yml")
# The leaf types yacs accepts.
VALUE_TYPES = (tuple, list, str, int, float, bool, type(None))


def dotted_keys(node, prefix=""):
    """Every leaf key of ``node`` as "SECTION.SUB.KEY"."""
    for key, value in node.items():
        if isinstance(value, CfgNode):
            yield from dotted_keys(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


def closest_keys(key, cfg):
    """Valid keys the user probably meant, best first.

    A similar key or section name in the same section, else keys with the same last part
    anywhere (a section left out or misplaced), else the most similar spelling among all keys;
    case is ignored.
    """
    *parents, leaf = key.upper().split(".")
    node = cfg
    for name in parents:
        node = node.get(name) if isinstance(node, CfgNode) else None
    if isinstance(node, CfgNode):
        close = difflib.get_close_matches(leaf, list(node.keys()), n=1, cutoff=0.6)
        if close:
            return [".".join(parents + [name]) for name in close]
    keys = list(dotted_keys(cfg))
    same_leaf = [valid for valid in keys if valid.rsplit(".", 1)[-1] == leaf]
    if same_leaf:

        def similarity(valid):
            return difflib.SequenceMatcher(None, key.upper(), valid).ratio()

        return sorted(same_leaf, key=similarity, reverse=True)[:3]
    by_upper = {valid.upper(): valid for valid in keys}
    close = difflib.get_close_matches(key.upper(), by_upper, n=1, cutoff=0.6)
    return [by_upper[match] for match in close]


def unknown_key_error(key, cfg, source):
    message = f'Unknown config key "{key}" {source}.'
    suggestions = closest_keys(key, cfg)
    if suggestions:
        message += " Did you mean " + " or ".join(f'"{s}"' for s in suggestions) + "?"
    else:
        message += f" Valid top-level keys: {', '.join(cfg.keys())}."
    return ConfigError(message)


def _type_hint(expected, given):
    if expected is int and isinstance(given, float):
        return " Write a whole number: a float is never truncated to an int."
    if expected in (tuple, list) and not isinstance(given, (tuple, list)):
        return " Write a list such as (224, 224) or [a, b] (quoted on the command line)."
    return ""


def checked_value(key, value, default, source):
    """``value`` decoded as yacs does and checked against the type of ``default``."""
    if isinstance(value, dict):
        raise ConfigError(
            f'"{key}" {source} is a single value (currently {default!r}), not a section: '
            f"give it one value instead of nested keys."
        )
    if not isinstance(value, VALUE_TYPES):
        raise ConfigError(
            f'"{key}" {source}: {type(value).__name__} values ({value!r}) are not allowed; '
            "use a number, string, boolean, list or null (quote it to keep it a string)."
        )
    value = CfgNode._decode_cfg_value(value)
    if type(default) is float and type(value) is int:  # 25 for 25.0: exact, never truncated
        return float(value)
    compatible = (
        type(value) is type(default)
        or value is None
        or default is None
        or {type(value), type(default)} == {list, tuple}
    )
    if not compatible:
        expected = type(default)
        raise ConfigError(
            f'"{key}" {source}: expected {expected.__name__}, got {type(value).__name__} '
            f"({value!r}); the current value is {default!r}.{_type_hint(expected, value)}"
        )
    return value


def check_mapping(mapping, node, cfg, source, prefix=""):
    """Check every key and value of a loaded YAML mapping against the config node it updates;
    ints given for floats are widened in ``mapping``."""
    for key, value in mapping.items():
        full_key = f"{prefix}{key}"
        if key not in node:
            raise unknown_key_error(full_key, cfg, source)
        default = node[key]
        if isinstance(default, CfgNode):
            if not isinstance(value, dict):
                example = next(iter(default), "KEY")
                raise ConfigError(
                    f'"{full_key}" {source} is a section, not a value (got {value!r}): '
                    f"put its keys indented below it, e.g. {full_key}: {{{example}: ...}}."
                )
            check_mapping(value, default, cfg, source, prefix=f"{full_key}.")
        else:
            checked = checked_value(full_key, value, default, source)
            if type(value) is int and type(checked) is float:
                mapping[key] = checked


def load_yaml_mapping(path):
    """The top-level mapping of a YAML config file ({} for an empty file)."""
    try:
        with open(path) as file:
            text = file.read()
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(
            f'Cannot read config file "{path}" ({error}). Check the path given to '
            "--config-file / --dataset-config-file."
        ) from error
    try:
        mapping = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(
            f'Config file "{path}" is not valid YAML{where}: {problem}. Check the '
            "indentation (spaces, not tabs) and the brackets."
        ) from error
    if mapping is None:
        return {}
    if not isinstance(mapping, dict):
        raise ConfigError(
            f'Config file "{path}" must be a mapping of config keys (lines such as '
            f'"OPTIM:" and "  MAX_EPOCH: 10"), not a {type(mapping).__name__}.'
        )
    return mapping


def _merged_by_yacs(merge, source):
    """Run a yacs merge; whatever it still refuses becomes a ConfigError naming the source."""
    try:
        merge()
    except (KeyError, ValueError, TypeError, AssertionError, AttributeError) as error:
        raise ConfigError(f"Cannot merge the options {source} into the config: {error}") from error


def _leaves(mapping, node, source, prefix=""):
    """``(dotted key, value)`` for every value of ``mapping``; a mapping given for one of the
    config's values stays whole (check_mapping refuses it with its own message)."""
    for key, value in mapping.items():
        if not isinstance(key, str):
            raise ConfigError(
                f"Config key {prefix}{key!r} {source} is not a name: keys are UPPER_CASE "
                "words such as OPTIM or MAX_EPOCH."
            )
        child = node.get(key) if isinstance(node, CfgNode) else None
        if isinstance(value, dict) and value and (child is None or isinstance(child, CfgNode)):
            yield from _leaves(value, child, source, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def resolved_mapping(mapping, cfg, trainer, source, notes):
    """``mapping`` with the family's aliases (run/config_aliases.py) rewritten to our keys."""
    resolved = {}
    for key, value in _leaves(mapping, cfg, source):
        our_key, value, note = resolve_alias(key, value, trainer, cfg)
        if note is not None:
            notes.append(f"{note} ({source})")
        if our_key is None:
            continue
        *parents, leaf = our_key.split(".")
        section = resolved
        for name in parents:
            section = section.setdefault(name, {})
        section[leaf] = value
    return resolved


def merge_config_file(cfg, path, trainer=None, notes=None):
    """``cfg.merge_from_file(path)`` with the family's aliases resolved for ``trainer`` and every
    key and value checked first; a note per alias is appended to ``notes``."""
    source = f'in config file "{path}"'
    if not os.path.isfile(path):
        raise ConfigError(
            f'Config file "{path}" does not exist. Check the path given to '
            "--config-file / --dataset-config-file."
        )
    if os.path.splitext(path)[1] not in YAML_EXTENSIONS:
        raise ConfigError(
            f'Config file "{path}" must be a YAML file ({", ".join(YAML_EXTENSIONS)}).'
        )
    notes = [] if notes is None else notes
    mapping = resolved_mapping(load_yaml_mapping(path), cfg, trainer, source, notes)
    check_mapping(mapping, cfg, cfg, source)
    _merged_by_yacs(lambda: cfg.merge_from_other_cfg(CfgNode(mapping)), source)


def merge_options(cfg, options, trainer=None, notes=None):
    """``cfg.merge_from_list(options)`` with the family's aliases resolved for ``trainer`` and
    every key and value checked first; a note per alias is appended to ``notes``."""
    options = list(options or [])
    if len(options) % 2:
        raise ConfigError(
            f'Config options {COMMAND_LINE} come in KEY VALUE pairs; "{options[-1]}" has no '
            f"value (options given: {' '.join(map(str, options))})."
        )
    notes = [] if notes is None else notes
    merged = []
    for key, value in zip(options[0::2], options[1::2]):
        decoded = CfgNode._decode_cfg_value(value)
        our_key, translated, note = resolve_alias(str(key), decoded, trainer, cfg)
        if note is not None:
            notes.append(f"{note} ({COMMAND_LINE})")
        if our_key is None:
            continue
        if our_key != key or translated is not decoded:
            key, value = our_key, translated
        node = cfg
        *parents, leaf = str(key).split(".")
        for name in parents:
            if name not in node or not isinstance(node[name], CfgNode):
                raise unknown_key_error(key, cfg, COMMAND_LINE)
            node = node[name]
        if leaf not in node:
            raise unknown_key_error(key, cfg, COMMAND_LINE)
        if isinstance(node[leaf], CfgNode):
            raise ConfigError(
                f'"{key}" {COMMAND_LINE} is a section, not a value: name one of its keys, '
                f'e.g. "{key}.{next(iter(node[leaf]), "KEY")}".'
            )
        checked = checked_value(key, value, node[leaf], COMMAND_LINE)
        merged += [key, checked if type(checked) is not type(decoded) else value]
    _merged_by_yacs(lambda: cfg.merge_from_list(merged), COMMAND_LINE)
