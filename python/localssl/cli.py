"""`python -m localssl <job>`: the long jobs the TypeScript side runs as child processes.

Progress goes out as NDJSON events (see events.py), logs go to stderr, and stdout is never used:
it is pointed at stderr before any work starts so a stray print cannot reach the bridge.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from pathlib import Path

from localssl.events import EventChannel
from localssl.stop import StopFlag

EXIT_FAILED = 1
EXIT_STOPPED = 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m localssl")
    jobs = parser.add_subparsers(dest="job", required=True)

    train = jobs.add_parser("train", help="self-supervised training of one run")
    train.add_argument("--run-dir", required=True, type=Path)
    train.add_argument("--resume", action="store_true")
    train.add_argument("--probe", action="store_true", help="then probe, in the same process")

    align = jobs.add_parser("align", help="local against backprop updates of a run, per layer")
    align.add_argument("--run-dir", required=True, type=Path)
    align.add_argument("--checkpoint", default="latest", help="'latest' or an epoch")
    align.add_argument("--batches", type=int, default=8)

    probe = jobs.add_parser("probe", help="linear probe of a run's encoder")
    probe.add_argument("--run-dir", required=True, type=Path)
    probe.add_argument("--checkpoint", default="latest", help="'latest', an epoch, or 'none'")

    theory = jobs.add_parser("theory", help="a theory-lab experiment (deep linear networks)")
    theory.add_argument("experiment", choices=["fig2", "fig3a", "fig3b", "fig4b", "theorems"])
    theory.add_argument("--out", required=True, type=Path)
    theory.add_argument("--scale", choices=["paper", "smoke"], default="paper")
    theory.add_argument("--seed", type=int, default=0)

    download = jobs.add_parser("download", help="download, verify and extract a dataset")
    download.add_argument("--dataset", required=True)
    download.add_argument("--root", required=True, type=Path)
    download.add_argument("--base-url", default=None, help="mirror replacing the official host")
    download.add_argument("--md5", default=None, help="expected archive md5 (a mirror's copy)")
    download.add_argument("--keep-archive", action="store_true")
    return parser


def _run(args: argparse.Namespace, events: EventChannel, stop: StopFlag) -> bool:
    """Run one job; True if it finished, False if it stopped early on request."""
    from localssl.config import load_config

    if args.job == "theory":
        from localssl.theory.run import run_experiment

        run_experiment(args.experiment, str(args.out), args.scale, args.seed, events)
        return True
    if args.job == "download":
        from localssl.data.fetch_job import run_download

        run_download(args.dataset, args.root, events, args.base_url, args.md5, args.keep_archive)
        return True

    config = load_config(args.run_dir / "config.json")
    if args.job == "train":
        from localssl.train import train

        finished = not train(config, args.run_dir, events, stop, resume=args.resume).get("stopped")
        if not finished or not args.probe:
            return finished
        from localssl.probe import run_probe

        run_probe(config, args.run_dir, "latest", events, stop)
        return not stop.requested
    if args.job == "probe":
        from localssl.probe import run_probe

        run_probe(config, args.run_dir, args.checkpoint, events, stop)
        return not stop.requested
    if args.job == "align":
        from localssl.align import run_align

        run_align(config, args.run_dir, args.checkpoint, args.batches, events)
        return True
    raise ValueError(f"unknown job {args.job!r}")


def main(argv: list[str] | None = None) -> int:
    # Keep fd 1 for nobody: C extensions and stray prints land on stderr instead.
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    logging.basicConfig(level=os.environ.get("LOCALSSL_LOG_LEVEL", "INFO"), stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")  # fmt: skip

    # Run by Node (events on their own fd): end with the parent, whose pipe on stdin closes.
    if "LOCALSSL_EVENTS_FD" in os.environ:
        from localssl.lifeline import start_lifeline

        start_lifeline()
    args = _parser().parse_args(argv)
    events = EventChannel.from_env()
    stop = StopFlag()
    stop.install()
    try:
        finished = _run(args, events, stop)
    except KeyboardInterrupt:
        events.emit("failed", type="KeyboardInterrupt", message="interrupted twice: stopped "
                    "without a final checkpoint", traceback="")  # fmt: skip
        return EXIT_STOPPED
    except Exception as error:
        events.emit("failed", type=type(error).__name__, message=str(error).split("\n")[0],
                    traceback=traceback.format_exc())  # fmt: skip
        return EXIT_FAILED
    finally:
        events.close()
    return 0 if finished else EXIT_STOPPED
