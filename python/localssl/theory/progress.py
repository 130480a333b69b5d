"""Progress events of the theory lab: anything with `emit(event, **fields)` receives them.

`localssl.events.EventChannel` is the production receiver; tests pass `NullEvents` or a list
collector. Field values must be JSON-friendly (numbers, strings, lists, dicts).
"""

from __future__ import annotations

from typing import Any, Protocol


class Events(Protocol):
    """Receiver of progress events."""

    def emit(self, event: str, **fields: Any) -> None: ...


class NullEvents:
    """Drops every event."""

    def emit(self, event: str, **fields: Any) -> None:
        """Ignore the event."""
