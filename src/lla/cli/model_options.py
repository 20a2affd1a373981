"""The model options of ``lla train`` and ``lla compare``, generated from the models' declared
hyper-parameters (:mod:`lla.params`, DESIGN §6): one source for every default and help text.

A declared parameter with ``flag="--topics"`` becomes the ``lla train`` option ``--topics``;
with ``compare_flag`` it becomes an ``lla compare`` option.  Several models may declare the same
flag (``--iterations`` sets LDA's sweeps and LLA's SEM iterations); the option's default is
None, meaning "each model's own default", and its help lists those defaults, read from the
constructors' signatures.
"""

import re

from ..base import registered_models
from ..errors import ParameterError
from ..params import flag_dest as dest

_TYPES = {"int": int, "float": float, "seed": int, "path": str, "names": str, "device": str,
          "str": str}


def declarations(attr, models=None):
    """{flag: [(model name, parameter name, Param)]} of every registered model (or of
    ``models``) that declares a parameter whose ``attr`` (``"flag"`` or ``"compare_flag"``) is
    that flag, in registration order."""
    table = {}
    for name, cls in registered_models().items():
        if models is not None and name not in models:
            continue
        for param_name in cls._param_names():
            param = cls._parameters[param_name]
            flag = getattr(param, attr)
            if flag:
                table.setdefault(flag, []).append((name, param_name, param))
    return table


def _defaults_text(entries):
    """"default: 128" or "default: 200 for lda, ddlda; 10 for topic-lla, ..."."""
    classes = registered_models()
    by_value = {}
    for model, param_name, _ in entries:
        value = classes[model]._defaults().get(param_name)
        by_value.setdefault(repr(value) if not isinstance(value, str) else value, []).append(model)
    if len(by_value) == 1:
        return f"default: {next(iter(by_value))}"
    return "default: " + "; ".join(f"{v} for {', '.join(ms)}" for v, ms in by_value.items())


def add_options(parser, attr, *, skip=()):
    """Add one option per declared flag (``attr``: "flag" for ``lla train``, "compare_flag" for
    ``lla compare``) to the argparse ``parser`` (or group); flags in ``skip`` are left out (the
    command defines them itself)."""
    for flag, entries in declarations(attr).items():
        if flag in skip:
            continue
        param = entries[0][2]
        kinds = {p.kind for _, _, p in entries}
        if len(kinds) > 1:  # pragma: no cover - guarded by tests/cli/test_model_options.py
            raise TypeError(f"{flag} is declared with different kinds: {sorted(kinds)}")
        by_help = {}
        for entry in entries:
            by_help.setdefault(entry[2].help, []).append(entry)
        help_text = " / ".join(
            f"{text} [{', '.join(m for m, _, _ in group)}; {_defaults_text(group)}]"
            for text, group in by_help.items()).replace("%", "%%")
        kwargs = {"dest": dest(flag), "default": None, "help": help_text}
        if param.kind == "bool":
            kwargs.update(action="store_const", const=not flag.startswith("--no-"))
        else:
            kwargs.update(type=_TYPES[param.kind], metavar=param.metavar or dest(flag).upper())
            if param.choices:
                kwargs["choices"] = param.choices
        parser.add_argument(flag, **kwargs)


def model_arguments(cls, args, attr, *, strict):
    """Constructor arguments of model class ``cls`` from the parsed ``args``: every declared
    parameter whose option (``attr``) was given.  With ``strict``, an option that ``cls`` does
    not declare is an error (unless it is a run setting such as ``--seed``, which applies to the
    models that use it)."""
    kwargs = {}
    mine = {getattr(p, attr): n for n, p in cls._parameters.items()
            if getattr(p, attr) and n in cls._param_names()}
    for flag, entries in declarations(attr).items():
        value = getattr(args, dest(flag), None)
        if value is None:
            continue
        if flag in mine:
            kwargs[mine[flag]] = value
        elif strict and not all(p.run_setting for _, _, p in entries):
            raise ParameterError(f"does not apply to --model {cls.model_name}", parameter=flag)
    return kwargs


def flag_names(cls, attr="flag"):
    """{parameter name: flag} of model class ``cls``."""
    return {n: getattr(p, attr) for n, p in cls._parameters.items() if getattr(p, attr)}


def in_flag_terms(error, cls, attr="flag", extra=None):
    """``error`` (a ParameterError or TrainingDiverged from ``cls``) with its parameter names
    replaced by the options the user typed (``n_topics must be ...`` → ``--topics must be
    ...``); ``extra``: more {name: flag} (e.g. fit options).  Same error class."""
    names = {**flag_names(cls, attr), **(extra or {})}
    text = str(error)
    for name in sorted(names, key=len, reverse=True):
        text = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w-])", names[name], text)
    return type(error)(text)
