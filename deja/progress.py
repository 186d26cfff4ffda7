"""A minimal progress bar on stderr (only when stderr is a terminal)."""

import sys
import time


class Progress:
    def __init__(self, total, label="", stream=None):
        self.total, self.label = total, label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.started = time.perf_counter()
        self._last = 0.0

    def __call__(self, done):
        if not self.enabled:
            return
        now = time.perf_counter()
        if done < self.total and now - self._last < 0.1:
            return
        self._last = now
        width = 30
        filled = int(width * done / max(1, self.total))
        rate = done / max(1e-9, now - self.started)
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] "
                          f"{done}/{self.total} ({rate:.0f}/s)")
        if done >= self.total:
            self.stream.write("\n")
        self.stream.flush()
