"""The envelope contract of localssl.bridge and the process guards it installs for Node."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import textwrap
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localssl import bridge

PYTHON_DIR = Path(__file__).resolve().parents[1]


def fail_with(args: dict[str, Any]) -> None:
    raise ValueError(f"bad lr {args['lr']}")


def leave(_args: dict[str, Any]) -> None:
    sys.exit(3)


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    module = types.ModuleType("fake_api")
    module.BRIDGE_METHODS = {  # type: ignore[attr-defined]
        "echo": lambda args: args,
        "nan": lambda _args: {"loss": math.nan, "values": [math.inf, -math.inf, 1.5]},
        "fail": fail_with,
        "leave": leave,
        "opaque": lambda _args: object(),
        "big": lambda args: [0.25] * int(args["n"]),
    }
    monkeypatch.setitem(sys.modules, "fake_api", module)
    yield "fake_api"


def decode(text: str) -> dict[str, Any]:
    assert isinstance(text, str)
    return json.loads(text, parse_constant=lambda token: pytest.fail(f"bare {token} in JSON"))


def test_call_returns_the_result_in_an_ok_envelope(api: str) -> None:
    reply = decode(bridge.call(api, "echo", '{"a": [1, 2], "b": "x"}'))
    assert reply == {"ok": True, "result": {"a": [1, 2], "b": "x"}}


def test_non_finite_floats_become_strings(api: str) -> None:
    reply = decode(bridge.call(api, "nan", "{}"))
    assert reply["result"] == {"loss": "NaN", "values": ["Infinity", "-Infinity", 1.5]}


def test_exceptions_become_error_envelopes_with_type_message_and_traceback(api: str) -> None:
    error = decode(bridge.call(api, "fail", '{"lr": -1}'))["error"]
    assert error["type"] == "ValueError"
    assert error["message"] == "bad lr -1"
    assert "Traceback (most recent call last)" in error["traceback"]
    assert "fail_with" in error["traceback"]


def test_system_exit_in_a_method_is_reported_not_raised(api: str) -> None:
    error = decode(bridge.call(api, "leave", "{}"))["error"]
    assert error["type"] == "SystemExit"
    assert error["message"] == "3"


def test_unregistered_methods_are_refused_and_the_registered_ones_named(api: str) -> None:
    error = decode(bridge.call(api, "__init__", "{}"))["error"]
    assert error["type"] == "LookupError"
    assert "fake_api.__init__ is not a bridge method" in error["message"]
    assert "echo" in error["message"]


def test_modules_without_bridge_methods_are_refused() -> None:
    error = decode(bridge.call("json", "dumps", "{}"))["error"]
    assert error["type"] == "LookupError"
    assert "json has no BRIDGE_METHODS" in error["message"]


def test_missing_modules_are_reported() -> None:
    error = decode(bridge.call("no_such_module_for_localssl", "x", "{}"))["error"]
    assert error["type"] == "ModuleNotFoundError"


@pytest.mark.parametrize("args_json", ["[1, 2]", "3", '"text"'])
def test_arguments_must_be_a_json_object(api: str, args_json: str) -> None:
    error = decode(bridge.call(api, "echo", args_json))["error"]
    assert error["type"] == "TypeError"
    assert "JSON object" in error["message"]


def test_invalid_json_arguments_are_reported(api: str) -> None:
    assert decode(bridge.call(api, "echo", "{nope"))["error"]["type"] == "JSONDecodeError"


def test_results_that_are_not_plain_data_are_refused(api: str) -> None:
    error = decode(bridge.call(api, "opaque", "{}"))["error"]
    assert error["type"] == "TypeError"
    assert "across the bridge" in error["message"]


def test_oversized_results_are_refused_with_a_hint(
    api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bridge, "MAX_RESULT_CHARS", 1000)
    assert decode(bridge.call(api, "big", '{"n": 10}'))["ok"] is True
    error = decode(bridge.call(api, "big", '{"n": 1000}'))["error"]
    assert error["type"] == "ValueError"
    assert "safetensors" in error["message"]


def test_shutdown_returns_an_ok_envelope() -> None:
    assert decode(bridge.shutdown()) == {"ok": True, "result": None}


def test_importing_without_the_host_variable_changes_nothing() -> None:
    assert bridge.HOST_PID_ENV not in os.environ
    assert sys.stdout is not sys.stderr


def run_guarded(code: str, host_pid: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(PYTHON_DIR),
        bridge.HOST_PID_ENV: host_pid,
        **extra_env,
    }
    prelude = "import os, sys, time\nimport localssl.bridge\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_guarded_process_sends_stdout_and_fd_1_to_stderr() -> None:
    code = """
        print("from print")
        os.write(1, b"from fd 1\\n")
        sys.stderr.write("env cleared: %s\\n" % ("LOCALSSL_BRIDGE_HOST_PID" not in os.environ))
    """
    done = run_guarded(code, str(os.getpid()))
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert "from print" in done.stderr
    assert "from fd 1" in done.stderr
    assert "env cleared: True" in done.stderr


def test_guarded_process_ignores_sigint() -> None:
    code = """
        import signal
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.2)
        sys.stderr.write("survived\\n")
    """
    done = run_guarded(code, str(os.getpid()))
    assert done.returncode == 0, done.stderr
    assert "survived" in done.stderr


def test_guarded_process_exits_when_its_host_is_not_its_parent() -> None:
    started = time.monotonic()
    done = run_guarded("time.sleep(20)\n", "1")
    assert done.returncode == 1
    assert time.monotonic() - started < 10


def test_guarded_process_streams_stderr_to_the_host_socket(tmp_path: Path) -> None:
    path = tmp_path / "stderr.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        server.listen(1)
        child = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import localssl.bridge, sys\nprint('hello over the socket')\n"
                "sys.stderr.write('and stderr\\n')\n",
            ],
            env={
                **os.environ,
                "PYTHONPATH": str(PYTHON_DIR),
                bridge.HOST_PID_ENV: str(os.getpid()),
                bridge.STDERR_SOCKET_ENV: str(path),
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        server.settimeout(20)
        connection, _ = server.accept()
        with connection:
            received = b""
            while chunk := connection.recv(4096):
                received += chunk
        stdout, stderr = child.communicate(timeout=20)
    text = received.decode()
    assert text.startswith(f"localssl-bridge {child.pid}\n")
    assert "hello over the socket" in text
    assert "and stderr" in text
    assert stdout == b""
    assert stderr == b""
