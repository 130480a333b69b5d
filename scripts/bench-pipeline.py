"""Input pipeline against training step, side by side: is training data-bound?

Run with the engine's interpreter:

    python/.venv/bin/python scripts/bench-pipeline.py --dataset stl10 --batch 128 --width 1
    python/.venv/bin/python scripts/bench-pipeline.py --dataset stl10 --root ~/data --stream

Without --root the images are random uint8 of the dataset's shape (channels, native size). The
device is CUDA when present. The measurement is localssl.bench (see its docstring); the report
goes to stdout, the engine's log to stderr.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "python"))

from localssl.bench import BenchSpec, bench, report, write_json
from localssl.data.catalog import DATASETS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Input pipeline against training step.")
    parser.add_argument("--dataset", default="cifar10", choices=sorted(DATASETS))
    parser.add_argument("--root", default=None, help="dataset folder; random images if absent")
    parser.add_argument("--size", type=int, default=None, help="view side in px (native)")
    parser.add_argument("--batch", type=int, default=128, help="images per step (default 128)")
    parser.add_argument("--width", type=float, default=1.0, help="VGG-6 width multiplier")
    parser.add_argument("--images", type=int, default=2048, help="random images without --root")
    parser.add_argument("--seconds", type=float, default=3.0, help="timing per loop")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (all)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--stream",
        action="store_const",
        const=False,
        dest="resident",
        help="keep the images on the CPU and copy each batch (STL-10 unlabeled)",
    )
    mode.add_argument("--resident", action="store_const", const=True, dest="resident",
                      help="copy all images to the device once")  # fmt: skip
    parser.add_argument("--json", type=Path, default=None, help="also write the result here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")  # fmt: skip

    spec = BenchSpec(dataset=args.dataset, root=args.root, size=args.size, batch=args.batch,
                     width=args.width, images=args.images, seconds=args.seconds,
                     device=args.device, threads=args.threads, resident=args.resident)  # fmt: skip
    result = bench(spec)
    sys.stdout.write(report(result))
    if args.json is not None:
        write_json(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
