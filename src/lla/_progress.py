"""Progress bars (tqdm), shown only when stderr is a terminal unless asked otherwise."""

import sys

from tqdm.auto import tqdm


def progress(iterable=None, *, total=None, desc=None, unit="it", enabled=None, **kwargs):
    """A tqdm bar.  ``enabled=None`` shows it only on an interactive terminal."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=not enabled,
                dynamic_ncols=True, leave=False, **kwargs)
