from .defaults import _C as cfg_default


def get_cfg_default():
    """A fresh copy of the default config (safe to modify)."""
    return cfg_default.clone()


def clean_cfg(cfg, trainer):
    """Drop the TRAINER sub-nodes of every trainer except ``trainer`` (for a shorter print)."""
    for key in list(cfg.TRAINER.keys()):
        if key not in ("NAME", trainer.upper()):
            cfg.TRAINER.pop(key, None)
