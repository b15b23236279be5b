"""The ``larq-compute`` command line tool.

Subcommands register themselves in ``_SUBCOMMANDS``; a subcommand is listed only once it works.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

import larq_compute

# name -> (help text, function adding arguments, function running the command)
_SUBCOMMANDS: dict[
    str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]
] = {}


def _native_info(_: argparse.Namespace) -> int:
    from larq_compute import _native

    features = _native.cpu_features()
    print(f"larq-compute {larq_compute.__version__}")
    print("kernel variants usable on this CPU: " + ", ".join(features["isa_variants"]))
    for name, value in features.items():
        if name != "isa_variants":
            print(f"  {name}: {value}")
    return 0


_SUBCOMMANDS["info"] = ("show version and the kernel variants usable on this CPU", lambda p: None, _native_info)


def _convert_arguments(parser: argparse.ArgumentParser) -> None:
    from larq_compute.compiler import command

    command.add_arguments(parser)


def _convert(args: argparse.Namespace) -> int:
    from larq_compute.compiler import command

    return command.run(args)


_SUBCOMMANDS["convert"] = ("convert a Keras BNN to a .tflite with binary ops", _convert_arguments, _convert)


def _benchmark_arguments(parser: argparse.ArgumentParser) -> None:
    from larq_compute import runtime_benchmark

    runtime_benchmark.add_arguments(parser)


def _benchmark(args: argparse.Namespace) -> int:
    from larq_compute import runtime_benchmark

    return runtime_benchmark.run(args)


_SUBCOMMANDS["benchmark"] = (
    "time a .tflite model on the runtime: latency, peak memory, time per op",
    _benchmark_arguments,
    _benchmark,
)



def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    from larq_compute import demo

    demo.add_arguments(parser)


def _demo(args: argparse.Namespace) -> int:
    from larq_compute import demo

    return demo.main(args)


_SUBCOMMANDS["demo"] = (
    "train a BNN on scikit-learn's digits, convert it, check it against Keras, time it vs float",
    _demo_arguments,
    _demo,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="larq-compute",
        description="Train, convert and run binarized neural networks.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {larq_compute.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, add_arguments, _) in _SUBCOMMANDS.items():
        add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return _SUBCOMMANDS[args.command][2](args)


if __name__ == "__main__":
    sys.exit(main())
