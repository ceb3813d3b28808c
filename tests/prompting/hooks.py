"""Running CLIP's own forward passes with temporary hooks: the oracle of the encoder tests."""

import contextlib


@contextlib.contextmanager
def hooks_removed_after(handles):
    """Yield, then remove every hook handle in ``handles`` (a list the block may extend)."""
    try:
        yield handles
    finally:
        for handle in handles:
            handle.remove()
