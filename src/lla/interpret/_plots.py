"""Figure helpers: matplotlib's object API only (no pyplot, no backend or global state)."""

import contextlib
import io
import warnings

from matplotlib.figure import Figure

#: matplotlib warns once per character that its font lacks (e.g. CJK artist names with DejaVu
#: Sans); the character is drawn as a box and the warning would repeat for every figure
_MISSING_GLYPH = r"Glyph \d+ .* missing from font"


@contextlib.contextmanager
def missing_glyphs_quiet():
    """Silence matplotlib's per-character "Glyph ... missing from font" warnings."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_MISSING_GLYPH, category=UserWarning)
        yield


def tight_layout(fig):
    """``fig.tight_layout()`` without the missing-glyph warnings (it measures every label)."""
    with missing_glyphs_quiet():
        fig.tight_layout()


def new_figure(width, height):
    """A new (Figure, Axes) of ``width`` × ``height`` inches, not registered with pyplot."""
    fig = Figure(figsize=(width, height))
    ax = fig.add_subplot(1, 1, 1)
    return fig, ax


def figure_png(fig, dpi=110):
    """The figure rendered as PNG bytes."""
    buffer = io.BytesIO()
    with missing_glyphs_quiet():
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    return buffer.getvalue()
