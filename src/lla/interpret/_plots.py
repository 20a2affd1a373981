"""Figure helpers: matplotlib's object API only (no pyplot, no backend or global state)."""

import io

from matplotlib.figure import Figure


def new_figure(width, height):
    """A new (Figure, Axes) of ``width`` × ``height`` inches, not registered with pyplot."""
    fig = Figure(figsize=(width, height))
    ax = fig.add_subplot(1, 1, 1)
    return fig, ax


def figure_png(fig, dpi=110):
    """The figure rendered as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    return buffer.getvalue()
