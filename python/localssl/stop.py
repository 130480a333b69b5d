"""Graceful stop: the first SIGINT or SIGTERM asks the loop to finish its step and checkpoint."""

from __future__ import annotations

import logging
import signal
from types import FrameType

log = logging.getLogger(__name__)


class StopFlag:
    """Set by a signal handler, read by training loops between steps."""

    def __init__(self) -> None:
        self.requested = False
        self.signal_name: str | None = None

    def install(self) -> None:
        """Handle SIGINT and SIGTERM; a second signal of either kind stops at once."""
        signal.signal(signal.SIGINT, self._handle)
        signal.signal(signal.SIGTERM, self._handle)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        self.signal_name = signal.Signals(signum).name
        log.info("%s received: stopping after this step", self.signal_name)
