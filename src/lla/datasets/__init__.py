"""Small data sets shipped inside the package.

``wiki_sample.txt.xz``: 150 English Wikipedia articles (WikiExtractor format, CC BY-SA 3.0;
attribution and article list in ``wiki_sample.md`` next to it).
"""

from importlib.resources import files


def wiki_sample_path():
    """Path of the bundled Wikipedia sample (a WikiExtractor ``.xz`` file)."""
    return str(files(__name__) / "wiki_sample.txt.xz")


def wiki_sample_attribution_path():
    return str(files(__name__) / "wiki_sample.md")
