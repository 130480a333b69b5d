"""Exit at once when the Node parent goes away, even mid-step.

`runJob` keeps the job's stdin as an open pipe and never writes to it. When Node exits or is
killed, the pipe closes, the read below returns EOF and the process ends without waiting for the
current step; nothing else would notice, since a SIGKILLed parent sends no signal to its child.
"""

from __future__ import annotations

import os
import threading

EXIT_CODE_PARENT_GONE = 1
STDIN_FD = 0


def wait_for_eof() -> None:
    """Block until stdin reaches end of file, then end the process without cleanup."""
    # os.read on the raw fd, not sys.stdin: a daemon thread parked inside a buffered reader holds
    # its lock, and interpreter shutdown then aborts with "could not acquire lock" (SIGABRT).
    while os.read(STDIN_FD, 65536):
        pass
    os._exit(EXIT_CODE_PARENT_GONE)


def start_lifeline() -> threading.Thread:
    """Start the daemon thread that ends this process when its stdin closes."""
    thread = threading.Thread(target=wait_for_eof, name="localssl-lifeline", daemon=True)
    thread.start()
    return thread
