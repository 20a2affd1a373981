"""One self-contained HTML report per model or pair of models (DESIGN §5, §6).

Fill the dataclasses of :mod:`.data` (:class:`Report` → :class:`ModelReport` →
:class:`TopicRow`, :class:`ReportFigure`, :class:`HistoryRow`; :class:`ModelComparison` →
:class:`MatchedPair`) and call :func:`write_html` (atomic) or :func:`render_html`.
"""

from .data import (HistoryRow, MatchedPair, ModelComparison, ModelReport, Report, ReportFigure,
                   TopicRow)
from .html import render_html, write_html

__all__ = ["HistoryRow", "MatchedPair", "ModelComparison", "ModelReport", "Report",
           "ReportFigure", "TopicRow", "render_html", "write_html"]
