"""Keep Python's cyclic garbage collector from stalling the UI thread.

With models, the decrypted index and Qt wrappers alive, a full (generation 2) collection
walks millions of objects and can pause whichever thread triggers it, usually the UI thread,
for 100-600 ms (measured in tests/ui/test_responsiveness.py). Long-lived objects are moved
out of the collector's view with ``gc.freeze()`` once they exist (after start-up and after
the models and index load); the collector then only walks what is young.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 5000


def install() -> None:
    _g0, g1, g2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, g1, g2)
    freeze_long_lived()


def freeze_long_lived() -> None:
    """Everything alive now is treated as permanent (frozen objects are never collected)."""
    gc.freeze()


def thaw_on_lock() -> None:
    """After lock, let the collector reclaim what the unlocked session held."""
    gc.unfreeze()
