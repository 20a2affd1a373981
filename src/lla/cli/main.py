"""Entry point of the ``lla`` command.

Each sub-command lives in its own module of this package, with ``add_parser(subparsers)`` and
``run(args) -> int``.  Any :class:`lla.LlaError` becomes one line on stderr and exit status 2.
Under ``torchrun`` (several processes) ``lla train`` and ``lla evaluate`` run as one job
(:mod:`lla.distributed`); each process's error line and log lines then name its rank.
"""

import argparse
import contextlib
import importlib
import logging
import os
import sys

from .._version import __version__
from ..errors import LlaError

# sub-command name -> module in lla.cli
COMMANDS = ("prepare", "info", "train", "evaluate", "topics", "predict", "report", "compare",
            "demo")
#: the sub-commands that run as one job of several processes under torchrun
DISTRIBUTED_COMMANDS = ("train", "evaluate")


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
    args.joined_process_group = False
    status = _run(args)
    if args.joined_process_group:  # this call ran one process of a torchrun job: end it now
        from ..distributed import exit_process
        exit_process(status)
    return status


def _run(args):
    """Run the sub-command; returns the exit status (errors as one line on stderr)."""
    name = f"lla {args.command}"
    try:
        with _processes(args) as rank_text:
            name += rank_text
            status = int(args.run(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return status
    except BrokenPipeError:  # `lla topics ... | head`: stop quietly, as Unix tools do
        _silence_stdout()
        return 141  # 128 + SIGPIPE, what a shell reports for a tool stopped by a closed pipe
    except MemoryError as e:  # backstop; models estimate their memory up front (lla._memory)
        print(f"{name}: error: out of memory ({e})", file=sys.stderr)
        return 2
    except LlaError as e:
        print(f"{name}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return 130


@contextlib.contextmanager
def _processes(args):
    """Under torchrun (``WORLD_SIZE`` > 1): join the process group for ``lla train`` /
    ``lla evaluate`` (and refuse the other commands); yields " (rank r of W)" for messages, or
    "" for one process."""
    from .. import distributed
    from ..errors import ParameterError

    if not distributed.launched():
        yield ""
        return
    if args.command not in DISTRIBUTED_COMMANDS:
        raise ParameterError(f"only {' and '.join('lla ' + c for c in DISTRIBUTED_COMMANDS)} "
                             f"run under torchrun; run lla {args.command} as one process")
    args.joined_process_group = not distributed.is_distributed()
    with distributed.session(getattr(args, "device", None) or "cpu"):
        rank_text = f" (rank {distributed.rank()} of {distributed.world_size()})"
        for handler in logging.getLogger().handlers:
            handler.setFormatter(logging.Formatter(
                f"%(levelname)s [rank {distributed.rank()}] %(name)s: %(message)s"))
        yield rank_text


def _silence_stdout():
    """Point stdout at /dev/null so that the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (AttributeError, OSError, ValueError):  # no real file descriptor (tests)
        pass
