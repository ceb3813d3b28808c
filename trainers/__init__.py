"""Trainers; importing this package registers them in Dassl's TRAINER_REGISTRY."""

import dassl_setup  # noqa: F401  (before any dassl import)

from . import cocoop, coop, kgcoop, sep, zsclip  # noqa: F401,E402
