"""The one entry point the Node bridge (pythonia) calls: `call(module, method, args_json)`.

Every call returns one plain `str` holding a JSON envelope, never a Python object: pythonia hands
back exact `str` values as JS primitives but anything else as a remote proxy, and a bare NaN in its
own IPC JSON crashes Node. No exception escapes either, because pythonia turns one into an error
with an empty message.

A module makes functions callable from Node by listing them in a module-level dict
`BRIDGE_METHODS: dict[str, Callable[[dict[str, Any]], Any]]`; each takes the decoded argument
object and returns plain data (dicts, lists, str, int, float, bool, None; tensors go through
safetensors files). Nothing outside such a dict can be called.

When the Node bridge imports this module it sets `LOCALSSL_BRIDGE_HOST_PID`, and the import then
guards the process: stdout is pointed at stderr, stderr goes to the host over a Unix socket so
that Node keeps its tail for crash reports, Ctrl-C is left to Node, and a watchdog thread ends
Python when the Node process is gone.
"""

from __future__ import annotations

import faulthandler
import importlib
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from types import ModuleType
from typing import Any

from localssl.jsonsafe import dumps

BridgeMethod = Callable[[dict[str, Any]], Any]

HOST_PID_ENV = "LOCALSSL_BRIDGE_HOST_PID"
STDERR_SOCKET_ENV = "LOCALSSL_BRIDGE_STDERR_SOCKET"

# Above this a result belongs in a file: 1M floats already cost about 1.3 s in json.dumps and
# 20 MB of text through pythonia's IPC.
MAX_RESULT_CHARS = 32 * 1024 * 1024

WATCHDOG_INTERVAL_S = 0.5

log = logging.getLogger(__name__)


def call(module: str, method: str, args_json: str) -> str:
    """Run `module.BRIDGE_METHODS[method](args)` and return the JSON envelope as one string."""
    try:
        function = lookup(module, method)
        args = json.loads(args_json)
        if not isinstance(args, dict):
            raise TypeError(
                f"{module}.{method} takes a JSON object of arguments, got {type(args).__name__}"
            )
        text = dumps({"ok": True, "result": function(args)})
        if len(text) > MAX_RESULT_CHARS:
            raise ValueError(
                f"{module}.{method} returned {len(text)} characters of JSON, over the limit of "
                f"{MAX_RESULT_CHARS}; write tensors to a safetensors file and return its path"
            )
        return text
    # A SystemExit raised by a method must not end pythonia's read loop, so BaseException.
    except BaseException as error:
        return error_envelope(error)


def lookup(module: str, method: str) -> BridgeMethod:
    """Return the registered bridge method, refusing anything not in `BRIDGE_METHODS`."""
    loaded: ModuleType = importlib.import_module(module)
    methods = getattr(loaded, "BRIDGE_METHODS", None)
    if not isinstance(methods, dict):
        raise LookupError(
            f"module {module} has no BRIDGE_METHODS dict, so nothing in it is callable"
        )
    function = methods.get(method)
    if function is None:
        known = ", ".join(sorted(methods)) or "none"
        raise LookupError(f"{module}.{method} is not a bridge method (registered: {known})")
    return function


def error_envelope(error: BaseException) -> str:
    """The envelope for a failed call: the exception's type name, message and full traceback."""
    return json.dumps(
        {
            "ok": False,
            "error": {
                "type": type(error).__name__,
                "message": str(error),
                "traceback": "".join(traceback.format_exception(error)),
            },
        }
    )


def shutdown() -> str:
    """Flush Python's streams before Node ends the process with SIGTERM (which flushes nothing)."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    return dumps({"ok": True, "result": None})


def send_stderr_to_host(path: str) -> None:
    """Point fd 2 at the host's Unix socket, announcing this process's pid on the first line.

    Everything written to fd 2 before a crash (a faulthandler dump, a C++ abort message) is then
    already in the socket buffer that Node reads, unlike output held by a reader thread here.
    """
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(path)
    except OSError as error:
        connection.close()
        log.warning("could not connect stderr to the Node bridge at %s: %s", path, error)
        return
    connection.sendall(f"localssl-bridge {os.getpid()}\n".encode())
    sys.stderr.flush()
    os.dup2(connection.fileno(), 2)
    connection.close()


def watch_host(host_pid: int) -> None:
    """End Python once the Node host is gone, even while the main thread is busy in a call.

    pythonia notices a dead host only when its read loop is idle, so a long call would otherwise
    leave an orphan running until it returns.
    """
    while os.getppid() == host_pid:
        time.sleep(WATCHDOG_INTERVAL_S)
    os._exit(1)


def install_process_guards() -> None:
    """Set up the bridge process when imported by the Node bridge; do nothing otherwise."""
    host_pid = os.environ.pop(HOST_PID_ENV, None)
    stderr_socket = os.environ.pop(STDERR_SOCKET_ENV, None)
    if host_pid is None:
        return

    # On Windows pythonia speaks over stdin and stderr, so both must stay as they are there.
    if sys.platform != "win32":
        if stderr_socket:
            send_stderr_to_host(stderr_socket)
        sys.stdout.flush()
        os.dup2(2, 1)
        sys.stdout = sys.stderr
    faulthandler.enable(file=sys.stderr)

    # Node owns the lifetime: Ctrl-C reaches this process too (same process group), and a
    # KeyboardInterrupt would tear down pythonia's loop under a call the host may still want.
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    threading.Thread(
        target=watch_host, args=(int(host_pid),), name="localssl-host-watchdog", daemon=True
    ).start()


install_process_guards()
