"""Exceptions that carry a one-line, user-facing message.

The CLI prints ``str(error)`` of any :class:`LlaError` on one line and exits with status 2;
library users catch the same classes.  Messages name the file (and line) or the argument and
the problem, e.g. ``data.jsonl:17: not valid JSON``.
"""


class LlaError(Exception):
    """Base class of every error lla raises on purpose."""


class InputError(LlaError, ValueError):
    """Bad input data: a file that is missing, empty, not UTF-8, malformed, ..."""

    def __init__(self, problem, path=None, line=None):
        self.path = None if path is None else str(path)
        self.line = line
        self.problem = problem
        where = ""
        if self.path is not None:
            where = self.path + (f":{line}" if line is not None else "") + ": "
        super().__init__(where + problem)


class ParameterError(LlaError, ValueError):
    """A hyper-parameter or argument with an invalid value.

    ``ParameterError(problem, parameter="n_topics")`` reads "n_topics must be ..." and keeps the
    parameter's name and the problem apart, so that the CLI can say ``--topics must be ...``
    for the flag the user typed (:meth:`for_flag`)."""

    def __init__(self, problem, parameter=None):
        self.parameter = parameter
        self.problem = problem
        super().__init__(problem if parameter is None else f"{parameter} {problem}")

    def for_flag(self, flag):
        """The same error, naming the command-line ``flag`` instead of the parameter."""
        return ParameterError(self.problem, parameter=flag)


class NotFittedError(LlaError, RuntimeError):
    """A method that needs a fitted model was called before ``fit``."""


class OutputError(LlaError, OSError):
    """A result that cannot be written: a read-only file system, a full disk, a path below a
    regular file, no permission.  Names the target and the problem; ``errno`` is the system's."""

    def __init__(self, problem, path=None, errno_=None):
        self.path = None if path is None else str(path)
        self.problem = problem
        super().__init__((self.path + ": " if self.path is not None else "") + problem)
        self.errno = errno_


class TrainingDiverged(LlaError, FloatingPointError):
    """Training produced a non-finite loss or parameter (NaN, ±inf): it stopped there instead of
    saving a broken model (a checkpoint, if any, keeps the last finite state)."""
