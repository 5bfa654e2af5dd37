"""The serving process's garbage collector settings (run in a child, as they are process-wide)."""

from __future__ import annotations

import subprocess
import sys

from gateway.runtime import YOUNG_GENERATION_THRESHOLD

PROBE = """
import gc
from gateway.runtime import tune_garbage_collector
before = gc.get_freeze_count()
tune_garbage_collector()
print(before, gc.get_freeze_count(), gc.get_threshold()[0])
"""


def test_tuning_freezes_start_up_objects_and_spaces_out_young_collections():
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    before, after, threshold = map(int, out)
    assert before == 0
    assert after > 1_000  # the modules and objects alive at start-up
    assert threshold == YOUNG_GENERATION_THRESHOLD
