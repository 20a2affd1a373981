import base64
import html
import re
from html.parser import HTMLParser

import numpy as np
import pytest

from lla.errors import ParameterError
from lla.interpret.matching import match_topics
from lla.report import (HistoryRow, ModelComparison, ModelReport, Report, ReportFigure,
                        TopicRow, render_html, write_html)

HOSTILE = '<script>alert("x")</script> & "Amélie" \'quoted\''


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.open = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.append((tag, dict(attrs)))
        if tag not in ("meta", "img", "input", "br"):
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1:]}>"
        self.open.pop()


def _parse(page):
    parser = _Collect()
    parser.feed(page)
    parser.close()
    assert parser.open == []
    return parser


def test_sample_page_structure(sample_report):
    page = render_html(sample_report)
    parser = _parse(page)
    assert parser.tags.count("script") == 1                     # ours only, inline
    assert parser.tags.count("img") == 6                        # 3 figures × 2 models
    tables = [a for t, a in parser.attrs if t == "table"]
    assert len(tables) == 1 + 2 * 2 + 1      # summary, 2 × (topics, histories), pairs
    assert sum("sortable" in a.get("class", "") for a in tables) == 5
    assert len([a for t, a in parser.attrs if t == "input"]) == 5
    ids = [a["id"] for _, a in parser.attrs if "id" in a]
    assert len(ids) == len(set(ids))
    for tag, attrs in parser.attrs:
        if tag == "img":
            assert attrs["src"].startswith("data:image/png;base64,")
            assert base64.b64decode(attrs["src"].split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
        if tag == "input":
            assert attrs["data-table"] in ids and attrs["data-count"] in ids


def test_self_contained(sample_report):
    page = render_html(sample_report)
    assert 'http-equiv="Content-Security-Policy"' in page and "default-src 'none'" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "@import" not in page and "url(" not in page


def test_user_text_is_escaped(sample_report):
    page = render_html(sample_report)
    assert HOSTILE not in page
    assert "<script>alert" not in page
    assert html.escape(HOSTILE, quote=True) in page
    assert "&lt;script&gt;alert(&quot;x&quot;)" in page


def test_content(sample_report):
    page = render_html(sample_report)
    model = sample_report.models[0]
    assert html.escape(model.topics[0].words[0]) in page
    assert "612." in page and "1,234,567" in page           # summary formatting
    assert 'class="chip hit"' in page                         # a predicted item that came next
    assert "matched topics" in page and "Hungarian" in page


def test_write_html_atomic(tmp_path, sample_report):
    out = write_html(sample_report, tmp_path / "sub" / "report.html")
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]   # no temporary left


def test_minimal_report():
    page = render_html(Report("empty", [ModelReport("m")]))
    _parse(page)
    assert "<table" not in page


def test_values_and_blanks():
    topics = [TopicRow(0, ["a"], npmi=None, share=0.5, extra={"x": "text"}),
              TopicRow(1, ["b"], npmi=float("nan"), share=None, extra={"y": np.float32(2.5)})]
    page = render_html(Report("t", [ModelReport("m", {"n": np.int64(12345), "f": 0.5},
                                                topics)]))
    _parse(page)
    assert "12,345" in page and 'data-value=""' in page and "<th>x</th>" in page
    assert '<th class="num" data-type="number">y</th>' in page


def test_comparison_from_matching():
    phi = np.array([[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]])
    m = match_topics(phi, phi[::-1])
    words = [["x", "y"], ["z", "y"]]
    comparison = ModelComparison.from_matching(m, "A", "B", words, words[::-1])
    assert [(p.topic_a, p.topic_b) for p in comparison.pairs] in ([(0, 1), (1, 0)],
                                                                  [(1, 0), (0, 1)])
    assert comparison.pairs[0].words_a == comparison.pairs[0].words_b
    page = render_html(Report("c", [], [comparison]))
    assert '<span class="shared">x</span>' in page or '<span class="shared">z</span>' in page


@pytest.mark.parametrize("build, message", [
    (lambda: ReportFigure("f", b"GIF89a"), "PNG"),
    (lambda: HistoryRow("u", ["a", "b"], topic_path=[1]), "topic_path"),
    (lambda: render_html({"title": "x"}), "Report"),
    (lambda: render_html(Report("x", [{"name": "m"}])), "ModelReport"),
])
def test_bad_input(build, message):
    with pytest.raises(ParameterError, match=message):
        build()
