"""Graceful stop: the first SIGINT or SIGTERM asks the loop to finish its step and checkpoint.

Ctrl-C in a terminal reaches the whole process group, so the job sees SIGINT from the terminal
and, a moment later, the SIGINT that Node forwards when it aborts. Repeats of SIGINT within
`REPEAT_WINDOW_S` therefore count as the same request; a later SIGINT, or SIGTERM (Node's
escalation), stops at once.
"""

from __future__ import annotations

import logging
import signal
import time
from types import FrameType

log = logging.getLogger(__name__)

REPEAT_WINDOW_S = 2.0


class StopFlag:
    """Set by a signal handler, read by training loops between steps."""

    def __init__(self) -> None:
        self.requested = False
        self.signal_name: str | None = None
        self._first_at = 0.0

    def install(self) -> None:
        """Handle SIGINT and SIGTERM; a second signal of either kind stops at once."""
        signal.signal(signal.SIGINT, self._handle)
        signal.signal(signal.SIGTERM, self._handle)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.requested:
            repeat = signum == signal.SIGINT and self.signal_name == "SIGINT"
            if repeat and time.monotonic() - self._first_at < REPEAT_WINDOW_S:
                return
            raise KeyboardInterrupt
        self.requested = True
        self._first_at = time.monotonic()
        self.signal_name = signal.Signals(signum).name
        log.info("%s received: stopping after this step", self.signal_name)
