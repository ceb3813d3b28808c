"""Make ``import dassl`` work with or without Dassl.pytorch installed.

The built-in subset under ``dassl_subset/`` is put on ``sys.path`` only when no other ``dassl``
can be imported, so a real Dassl always wins however it is installed: a wheel, ``PYTHONPATH``,
``setup.py develop``, or ``pip install -e`` with a current setuptools (whose import hook comes
after ``sys.path`` in ``sys.meta_path``, so a subset anywhere on ``sys.path`` would hide it).
Import this module before anything that imports ``dassl``.

When the real Dassl is the one found, two incompatibilities with current torch are patched
(see ``apply_real_dassl_fixes``); the built-in subset needs neither. Either way, Dassl's
``load_checkpoint`` is replaced by one that reads checkpoints without letting them run code.
"""

import importlib
import importlib.metadata
import importlib.util
import inspect
import os
import sys

BUILTIN_SUBSET_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dassl_subset")

if BUILTIN_SUBSET_ROOT not in sys.path and importlib.util.find_spec("dassl") is None:
    sys.path.append(BUILTIN_SUBSET_ROOT)


def using_builtin_subset():
    """True when ``import dassl`` gives (or will give) the built-in subset."""
    if "dassl" in sys.modules:
        return bool(getattr(sys.modules["dassl"], "IS_BUILTIN_SUBSET", False))
    spec = importlib.util.find_spec("dassl")
    if spec is None:
        return False
    locations = list(spec.submodule_search_locations or []) or [spec.origin or ""]
    subset_root = os.path.realpath(BUILTIN_SUBSET_ROOT) + os.sep
    return all(os.path.realpath(path).startswith(subset_root) for path in locations)


def dassl_description():
    """Which Dassl ``import dassl`` gives, for the run's log: version and folder, or the subset."""
    if using_builtin_subset():
        return "built-in subset (dassl_subset/; no Dassl.pytorch installed)"
    import dassl

    version = getattr(dassl, "__version__", None)
    if version is None:
        try:
            version = importlib.metadata.version("dassl")
        except importlib.metadata.PackageNotFoundError:
            version = "unknown version"
    if dassl.__file__:
        folder = os.path.dirname(os.path.abspath(dassl.__file__))
    else:  # a namespace package (no __init__.py)
        folder = next(iter(dassl.__path__), "?")
    return f"Dassl.pytorch {version} at {folder}"


def _import_or_none(module_name):
    try:
        return importlib.import_module(module_name)
    except ImportError:
        return None


def _fix_warmup_scheduler_verbose():
    """Upstream passes ``verbose`` positionally to ``LRScheduler.__init__``, gone in torch 2.13."""
    from torch.optim.lr_scheduler import LRScheduler

    if "verbose" in inspect.signature(LRScheduler.__init__).parameters:
        return False
    module = _import_or_none("dassl.optim.lr_scheduler")
    base = getattr(module, "_BaseWarmupScheduler", None)
    if base is None or getattr(base.__init__, "_fixed_for_new_torch", False):
        return False

    def __init__(self, optimizer, successor, warmup_epoch, last_epoch=-1, verbose=False):
        self.successor = successor
        self.warmup_epoch = warmup_epoch
        super(base, self).__init__(optimizer, last_epoch)

    __init__._fixed_for_new_torch = True
    base.__init__ = __init__
    return True


def _safe_load_checkpoint(fpath):
    """Dassl's ``load_checkpoint`` with ``weights_only=True`` and the checkpoint allow-list.

    Upstream checkpoints pickle the warm-up scheduler's successor object, which the plain
    ``weights_only=True`` default of torch >= 2.6 refuses, and upstream itself reads them with
    ``weights_only=False``, which lets a crafted file run code (``run/untrusted_files.py``).
    """
    import torch

    from run.untrusted_files import load_checkpoint_file

    if fpath is None:
        raise ValueError("File path is None")
    if not os.path.exists(fpath):
        raise FileNotFoundError(f'File is not found at "{fpath}"')
    return load_checkpoint_file(fpath, map_location=None if torch.cuda.is_available() else "cpu")


_safe_load_checkpoint._fixed_for_new_torch = True


def _fix_load_checkpoint():
    """Install ``_safe_load_checkpoint`` in whichever Dassl is imported; True if it was not."""
    import torch

    if "weights_only" not in inspect.signature(torch.load).parameters:
        return False
    patched = False
    # every module that bound the name at import time needs the new function
    for module_name in ("dassl.utils.torchtools", "dassl.utils", "dassl.engine.trainer"):
        module = _import_or_none(module_name)
        current = getattr(module, "load_checkpoint", None)
        if current is not None and not getattr(current, "_fixed_for_new_torch", False):
            module.load_checkpoint = _safe_load_checkpoint
            patched = True
    return patched


def apply_real_dassl_fixes():
    """Patch an imported upstream Dassl for current torch; no-op for the built-in subset.

    Returns the names of the fixes applied by this call (idempotent: a second call returns []).
    """
    if using_builtin_subset() or importlib.util.find_spec("dassl") is None:
        return []
    fixes = []
    if _fix_warmup_scheduler_verbose():
        fixes.append("warmup_scheduler_verbose")
    if _fix_load_checkpoint():
        fixes.append("load_checkpoint_weights_only")
    return fixes


def require_importable_dassl():
    """Exit with one ``Error:`` line when the real Dassl found cannot be imported because one of
    its own requirements is missing (Dassl on PYTHONPATH without ``pip install -r
    requirements.txt``), instead of a ModuleNotFoundError traceback."""
    if using_builtin_subset():
        return
    try:
        importlib.import_module("dassl.engine")
    except ModuleNotFoundError as error:
        if not error.name or error.name.split(".")[0] == "dassl":
            raise
        package = next(iter(importlib.util.find_spec("dassl").submodule_search_locations or []), "")
        checkout = os.path.dirname(os.path.abspath(package)) if package else "its checkout"
        print(
            f"Error: the Dassl.pytorch at {checkout} needs the module {error.name!r}, which is not "
            f"installed: pip install -r {os.path.join(checkout, 'requirements.txt')}",
            file=sys.stderr,
        )
        raise SystemExit(2) from None


if not using_builtin_subset():
    require_importable_dassl()
    apply_real_dassl_fixes()
else:
    _fix_load_checkpoint()
