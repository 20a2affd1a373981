"""Entry point of the ``lla`` command.

Each sub-command lives in its own module of this package, with ``add_parser(subparsers)`` and
``run(args) -> int``.  Any :class:`lla.LlaError` becomes one line on stderr and exit status 2.
"""

import argparse
import importlib
import logging
import os
import sys

from .._version import __version__
from ..errors import LlaError

# sub-command name -> module in lla.cli
COMMANDS = ("prepare", "info", "train", "evaluate", "topics", "predict", "report", "compare",
            "demo")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="lla", description="Latent LSTM Allocation: topic models with LSTM topic dynamics.")
    parser.add_argument("--version", action="version", version=f"lla {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"{__package__}.{name}").add_parser(sub)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)],
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        status = int(args.run(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return status
    except BrokenPipeError:  # `lla topics ... | head`: stop quietly, as Unix tools do
        _silence_stdout()
        return 141  # 128 + SIGPIPE, what a shell reports for a tool stopped by a closed pipe
    except MemoryError as e:  # backstop; models estimate their memory up front (lla._memory)
        print(f"lla {args.command}: error: out of memory ({e})", file=sys.stderr)
        return 2
    except LlaError as e:
        print(f"lla {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"lla {args.command}: interrupted", file=sys.stderr)
        return 130


def _silence_stdout():
    """Point stdout at /dev/null so that the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (AttributeError, OSError, ValueError):  # no real file descriptor (tests)
        pass
