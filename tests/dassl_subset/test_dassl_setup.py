"""dassl_setup with a stand-in for upstream Dassl: found first on sys.path, patched for new torch.

Each check runs in a subprocess so the stand-in never replaces the subset in this session.
"""

import argparse
import os
import pickle
import subprocess
import sys
import textwrap

import pytest
import torch

import dassl_setup

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The two upstream behaviours that break under torch >= 2.13 / weights_only=True, reproduced.
FAKE_UPSTREAM = {
    "dassl/__init__.py": "",
    "dassl/utils/__init__.py": "from .torchtools import load_checkpoint\n",
    "dassl/utils/torchtools.py": """
        import torch

        def load_checkpoint(fpath):
            return torch.load(fpath, map_location="cpu")
    """,
    "dassl/optim/__init__.py": "from .lr_scheduler import ConstantWarmupScheduler\n",
    "dassl/optim/lr_scheduler.py": """
        from torch.optim.lr_scheduler import _LRScheduler

        class _BaseWarmupScheduler(_LRScheduler):
            def __init__(self, optimizer, successor, warmup_epoch, last_epoch=-1, verbose=False):
                self.successor = successor
                self.warmup_epoch = warmup_epoch
                super().__init__(optimizer, last_epoch, verbose)

        class ConstantWarmupScheduler(_BaseWarmupScheduler):
            def __init__(
                self, optimizer, successor, warmup_epoch, cons_lr, last_epoch=-1, verbose=False
            ):
                self.cons_lr = cons_lr
                super().__init__(optimizer, successor, warmup_epoch, last_epoch, verbose)

            def get_lr(self):
                if self.last_epoch >= self.warmup_epoch:
                    return self.successor.get_last_lr()
                return [self.cons_lr for _ in self.base_lrs]
    """,
    "dassl/engine/__init__.py": "",
    "dassl/engine/trainer.py": "from dassl.utils import load_checkpoint\n",
}

BUILD_SCHEDULER = """
    import torch
    from dassl.optim import ConstantWarmupScheduler
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    successor = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, 5.0)
    scheduler = ConstantWarmupScheduler(optimizer, successor, 1, 1e-5)
    assert optimizer.param_groups[0]["lr"] == 1e-5
"""

# Upstream's scheduler state holds the successor scheduler object (and its optimizer): read;
# any other object: refused, since reading it could run code.
RELOAD_PICKLED_CHECKPOINT = """
    import argparse, sys, torch
    import dassl.utils, dassl.utils.torchtools, dassl.engine.trainer
    from run.untrusted_files import UnsafeFileError
    modules = (dassl.utils, dassl.utils.torchtools, dassl.engine.trainer)
    torch.save({"scheduler": scheduler.state_dict()}, sys.argv[1])
    for module in modules:
        assert module.load_checkpoint(sys.argv[1])["scheduler"]["successor"].T_max == 5.0
    torch.save({"scheduler": argparse.Namespace(last_epoch=3)}, sys.argv[1])
    for module in modules:
        try:
            module.load_checkpoint(sys.argv[1])
            raise AssertionError("an argparse.Namespace was read")
        except UnsafeFileError as error:
            assert "argparse.Namespace" in str(error), error
"""


def _write_fake_upstream(root):
    for relative_path, source in FAKE_UPSTREAM.items():
        path = root / relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))


def _run(tmp_path, *snippets):
    code = "".join(textwrap.dedent(snippet) for snippet in snippets)
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "upstream"))
    return subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "ckpt.pth")],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_this_session_uses_the_builtin_subset():
    import dassl

    assert dassl_setup.using_builtin_subset() and dassl.IS_BUILTIN_SUBSET is True
    assert dassl_setup.apply_real_dassl_fixes() == []


def test_fake_upstream_code_fails_under_current_torch_without_the_fixes(tmp_path):
    scheduler_module, torchtools_module = {}, {}
    exec(textwrap.dedent(FAKE_UPSTREAM["dassl/optim/lr_scheduler.py"]), scheduler_module)
    exec(textwrap.dedent(FAKE_UPSTREAM["dassl/utils/torchtools.py"]), torchtools_module)
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    successor = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, 5.0)
    with pytest.raises(TypeError):
        scheduler_module["ConstantWarmupScheduler"](optimizer, successor, 1, 1e-5)
    torch.save({"scheduler": argparse.Namespace(last_epoch=3)}, tmp_path / "ckpt.pth")
    with pytest.raises(pickle.UnpicklingError):
        torchtools_module["load_checkpoint"](str(tmp_path / "ckpt.pth"))


def test_importing_dassl_setup_patches_upstream_scheduler_and_checkpoint_loading(tmp_path):
    _write_fake_upstream(tmp_path / "upstream")
    result = _run(
        tmp_path,
        """
        import dassl_setup, dassl
        assert not dassl_setup.using_builtin_subset()
        assert not hasattr(dassl, "IS_BUILTIN_SUBSET")
        assert dassl_setup.apply_real_dassl_fixes() == []  # already applied at import, idempotent
        """,
        BUILD_SCHEDULER,
        RELOAD_PICKLED_CHECKPOINT,
        'print("OK")',
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "OK"


# What `pip install -e` with a current setuptools leaves in site-packages: a .pth file that
# installs an import hook at the end of sys.meta_path (after the sys.path finder).
EDITABLE_FINDER = """
    import importlib.util
    import sys

    SOURCE = {source!r}

    class EditableDasslFinder:
        @classmethod
        def find_spec(cls, fullname, path=None, target=None):
            if fullname != "dassl":
                return None
            return importlib.util.spec_from_file_location(
                fullname, SOURCE + "/__init__.py", submodule_search_locations=[SOURCE]
            )

    def install():
        sys.meta_path.append(EditableDasslFinder)
"""


def test_dassl_installed_editable_through_an_import_hook_wins_over_the_subset(tmp_path):
    _write_fake_upstream(tmp_path / "upstream")
    (tmp_path / "upstream" / "dassl" / "__init__.py").write_text('__version__ = "0.6.3"\n')
    site_dir = tmp_path / "site"
    site_dir.mkdir()
    source = str(tmp_path / "upstream" / "dassl")
    (site_dir / "__editable___dassl_finder.py").write_text(
        textwrap.dedent(EDITABLE_FINDER.format(source=source))
    )
    (site_dir / "__editable__.dassl-0.6.3.pth").write_text(
        "import __editable___dassl_finder; __editable___dassl_finder.install()\n"
    )
    code = f"""
        import site
        site.addsitedir({str(site_dir)!r})
        import dassl_setup, dassl
        assert not dassl_setup.using_builtin_subset()
        print(dassl_setup.dassl_description())
    """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code) + textwrap.dedent(BUILD_SCHEDULER)],
        cwd=REPO_ROOT,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Dassl.pytorch 0.6.3 at {source}"


def test_the_subset_describes_itself_as_the_builtin_subset():
    assert dassl_setup.dassl_description().startswith("built-in subset")
