"""Progress lines for long steps (extraction, training), written to the job's log."""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)


class ProgressLog:
    """Log progress of a long step at most every ``every_s`` seconds, and at its end.

    Called as ``progress(done, total)`` or ``progress(done, total, note)``; logs
    ``"<label>: done / total <unit> (pct%, seconds s[, note])"``.
    """

    def __init__(self, label: str, every_s: float = 10.0, unit: str = "time points"):
        self.label, self.every_s, self.unit = label, every_s, unit
        self._last, self._t0 = 0.0, time.monotonic()

    def __call__(self, done: int, total: int, note: str = "") -> None:
        now = time.monotonic()
        if done == total or now - self._last >= self.every_s:
            self._last = now
            log.info(
                "%s: %d / %d %s (%.0f%%, %.1f s%s)",
                self.label,
                done,
                total,
                self.unit,
                100.0 * done / max(total, 1),
                now - self._t0,
                f", {note}" if note else "",
            )
