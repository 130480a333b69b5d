"""Newline-delimited JSON events for long jobs, on a file descriptor of their own.

The TypeScript side opens an extra pipe (fd 3 by default) and passes its number in
`LOCALSSL_EVENTS_FD`. Library code that prints, or C extensions that write to fd 1, cannot
pollute this channel. Without the variable (a user running `python -m localssl` by hand) events
go to stderr as plain JSON lines.
"""

from __future__ import annotations

import os
import sys
import time
from typing import IO, Any

from localssl.jsonsafe import dumps


class EventChannel:
    """Writes one JSON object per line, flushed at once, each stamped with `time_ms`."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    @classmethod
    def from_env(cls) -> EventChannel:
        fd = os.environ.get("LOCALSSL_EVENTS_FD")
        if fd is None:
            return cls(sys.stderr)
        return cls(os.fdopen(int(fd), "w", buffering=1, encoding="utf-8"))

    def emit(self, event: str, **fields: Any) -> None:
        line = dumps({"event": event, "time_ms": round(time.time() * 1000), **fields})
        self._stream.write(line + "\n")
        self._stream.flush()

    def close(self) -> None:
        if self._stream is not sys.stderr:
            self._stream.close()
