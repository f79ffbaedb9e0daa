"""Sample news publishers served locally: generated articles for any day, with their ground truth.

`publishers` generates the articles (the oracle tests compare parsers against), `text` writes
their words, `render` turns them into each site's HTML and feed, `server` serves them over HTTP.
Run `python -m news_etl.sample_sites --port 8750` to browse them.
"""

from news_etl.sample_sites.publishers import PUBLISHERS, Publisher, SampleArticle, articles_for, find_article
from news_etl.sample_sites.server import main, make_server, serve_in_thread

__all__ = [
    "PUBLISHERS",
    "Publisher",
    "SampleArticle",
    "articles_for",
    "find_article",
    "main",
    "make_server",
    "serve_in_thread",
]
