"""This process's performance-model state: the shipped calibration (read once) and the prediction memo.

app.perf is pure and keeps nothing between calls; the process that computes predictions (the web app, a
worker of the pool, the CLI) owns this state and passes it in.
"""

from __future__ import annotations

from collections.abc import Hashable

from app.perf.calibrate import Calibration
from app.perf.memo import Memo
from app.perf.predict import default_calibration as load_shipped_calibration
from app.perf.types import Prediction


class PerfContext:
    """The calibration and the memo one process uses; the memo follows the catalog version it is given."""

    def __init__(self, memo_size: int = 4096) -> None:
        self._calibration: Calibration | None = None
        self.memo: Memo[Prediction] = Memo(size=memo_size)

    @property
    def calibration(self) -> Calibration:
        if self._calibration is None:
            self._calibration = load_shipped_calibration()
        return self._calibration

    def memo_for(self, catalog_version: Hashable) -> Memo[Prediction]:
        self.memo.use_version(catalog_version)
        return self.memo


PROCESS = PerfContext()


def default_calibration() -> Calibration:
    """The shipped calibration, read once per process."""
    return PROCESS.calibration
