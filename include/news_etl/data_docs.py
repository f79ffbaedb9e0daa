"""The Data Docs site: one persistent Great Expectations site (NEWS_ETL_DATA_DOCS) holding every
validation's page, its index listing the whole history, readable offline.

GX's own SiteBuilder renders the pages from a validation results store kept inside the site
(`results/`, JSON), so the index lists every validation ever stored there, not only this
process's. The templates in include/data_docs/ replace GX's CDN stylesheets, scripts and logo with
one stylesheet served with the site, and render the index's list of validations as HTML (GX
builds it with bootstrap-table JavaScript from a CDN). A validation's page is
validations/news/<source>/<day> <run id>/<time>/warehouse-staged_articles.html, so the folders
name the source and the collected day and the page shows the Airflow run id as its run name.
"""

from __future__ import annotations

import fcntl
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

from great_expectations.render.renderer.site_builder import SiteBuilder
from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView
from jinja2 import ChoiceLoader, FileSystemLoader

from news_etl import INCLUDE_DIR
from news_etl.errors import NewsEtlError

SITE_NAME = "news_etl"
TEMPLATES_DIR = INCLUDE_DIR / "data_docs"
STYLESHEET = "news_etl_data_docs.css"
RESULTS_FOLDER = "results"


def results_store_config(site_dir: Path) -> dict:
    """GX's validation results store, on disk in the site: the history the index is built from."""
    return {"class_name": "ValidationResultsStore",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(site_dir / RESULTS_FOLDER)}}


def site_config(site_dir: Path) -> dict:
    """The site: validation pages only (suites change with each run's parameters, and GX's
    profiling pages are not used)."""
    view = {"module_name": __name__}
    return {
        "module_name": __name__, "class_name": "OfflineSiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site_dir)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder",
                               "view": {**view, "class_name": "OfflineIndexPageView"}},
        "site_section_builders": {
            "expectations": "None", "profiling": "None",
            "validations": {"view": {**view, "class_name": "OfflinePageView"}},
        },
        "show_how_to_buttons": False,
    }


class _OfflineTemplates:
    """A GX Jinja view whose templates in include/data_docs/ come before GX's own (GX's
    custom_views_directory is searched after them, so it cannot replace a template)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.env.loader = ChoiceLoader([FileSystemLoader(str(TEMPLATES_DIR)), self.env.loader])


class OfflinePageView(_OfflineTemplates, DefaultJinjaPageView):
    pass


class OfflineIndexPageView(_OfflineTemplates, DefaultJinjaIndexPageView):
    pass


class OfflineSiteBuilder(SiteBuilder):
    """GX's SiteBuilder, except that it does not copy GX's 4 MB of static files (fonts, images)
    into the site on every build: the pages need only the stylesheet, written once."""

    def build(self, resource_identifiers=None, build_index: bool = True):
        for section in self.site_section_builders.values():
            section.build(resource_identifiers=resource_identifiers)
        install_stylesheet(Path(self.target_store.store_backends[SITE_INDEX_KEY].full_base_directory))
        _, index_links = self.site_index_builder.build(build_index=build_index)
        return self.get_resource_url(only_if_exists=False), index_links


SITE_INDEX_KEY = "index_page"


def install_stylesheet(site_dir: Path) -> None:
    target = site_dir / "static" / STYLESHEET
    source = TEMPLATES_DIR / STYLESHEET
    if not target.exists() or target.read_bytes() != source.read_bytes():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        shutil.copyfile(source, partial)
        partial.replace(target)  # a reader never sees half a stylesheet


LOCK_WAIT_SECONDS = 300.0  # a build takes seconds; a holder stuck longer is not waited for


@contextmanager
def site_lock(site_dir: Path, wait: float = LOCK_WAIT_SECONDS):
    """One build of the site at a time across processes (parallel check tasks), so no build's
    index is overwritten by one that started before the other's page existed. The wait is
    bounded: past it, the build is given up naming the lock (the check's results stand; its page is missing)."""
    site_dir.mkdir(parents=True, exist_ok=True)
    path = site_dir / ".build.lock"
    with open(path, "w") as lock:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise NewsEtlError(f"Data Docs site {site_dir}: another build held {path} for more than "
                                       f"{wait:.0f} s") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
