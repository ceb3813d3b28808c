"""Merge YAML files and command-line options into the config, refusing what yacs cannot use.

yacs reports a typo as ``KeyError: 'Non-existent config key: OPTIM.MAX_EPOCHS'`` under a long
traceback, and a wrong type as ``Type mismatch (<class 'float'> vs. <class 'int'>) ...``. Here
every key and value is checked before yacs merges it, and a problem becomes a ConfigError that
names the key, where it came from (file or command line), the closest valid key and the
expected type.
"""

import difflib
import os

import yaml
from yacs.config import CfgNode

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
    if expected is float and isinstance(given, int) and not isinstance(given, bool):
        return f" Write {given}.0 for a float."
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
    """Check every key and value of a loaded YAML mapping against the config node it updates."""
    for key, value in mapping.items():
        full_key = f"{prefix}{key}"
        if not isinstance(key, str):
            raise ConfigError(
                f'Config key {full_key!r} {source} is not a name: keys are '
                "UPPER_CASE words such as OPTIM or MAX_EPOCH."
            )
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
            checked_value(full_key, value, default, source)


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


def merge_config_file(cfg, path):
    """``cfg.merge_from_file(path)`` with every key and value checked first."""
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
    check_mapping(load_yaml_mapping(path), cfg, cfg, source)
    _merged_by_yacs(lambda: cfg.merge_from_file(path), source)


def merge_options(cfg, options):
    """``cfg.merge_from_list(options)`` with every key and value checked first."""
    options = list(options or [])
    if len(options) % 2:
        raise ConfigError(
            f'Config options {COMMAND_LINE} come in KEY VALUE pairs; "{options[-1]}" has no '
            f"value (options given: {' '.join(map(str, options))})."
        )
    for key, value in zip(options[0::2], options[1::2]):
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
        checked_value(key, value, node[leaf], COMMAND_LINE)
    _merged_by_yacs(lambda: cfg.merge_from_list(options), COMMAND_LINE)
