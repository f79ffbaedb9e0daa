"""The Data Docs site: one persistent Great Expectations site (NEWS_ETL_DATA_DOCS) holding every
validation's page, its index listing the whole history, readable offline.

GX's own SiteBuilder renders the pages from a validation results store kept inside the site
(`results/`, JSON), so the index lists every validation ever stored there, not only this
process's. The templates in include/data_docs/ replace GX's CDN stylesheets, scripts and logo with
one stylesheet served with the site, and render the index's list of validations as HTML (GX
builds it with bootstrap-table JavaScript from a CDN). A validation's page is
validations/news/<source>/<day> <run id>/<time>/warehouse-staged_articles.html, so the folders
name the source and the collected day and the page shows the Airflow run id as its run name.

A check task builds each validation's page as it goes and the index once, after its last source
(`site_builder` is made once per GX context, so its templates are compiled once): GX's own build
lists the whole store for every page and rebuilds the index from every stored result, a cost that
grows with the site's history, paid for every source.
"""

from __future__ import annotations

import fcntl
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlparse

from great_expectations.data_context.types.resource_identifiers import SiteSectionIdentifier
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
        install_stylesheet(self.site_dir)
        _, index_links = self.site_index_builder.build(build_index=build_index)
        return self.get_resource_url(only_if_exists=False), index_links

    @property
    def site_dir(self) -> Path:
        return Path(self.target_store.store_backends[SITE_INDEX_KEY].full_base_directory)

    def build_page(self, key) -> Path:
        """The page of one stored validation result, rendered as GX's validations section does
        (without listing every key of the store first, as its build does); returns its file."""
        section = self.site_section_builders["validations"]
        html = section.view_class.render(section.renderer_class.render(section.source_store.get(key)),
                                         data_context_id=section.data_context_id,
                                         show_how_to_buttons=section.show_how_to_buttons)
        self.target_store.set(SiteSectionIdentifier(site_section_name=section.name, resource_identifier=key), html)
        install_stylesheet(self.site_dir)
        return Path(unquote(urlparse(self.get_resource_url(resource_identifier=key)).path))

    def build_index(self) -> Path:
        """index.html, listing every validation in the site's results store."""
        install_stylesheet(self.site_dir)
        self.site_index_builder.build(build_index=True)
        return self.site_dir / "index.html"


SITE_INDEX_KEY = "index_page"


def site_builder(context, site_dir: Path) -> OfflineSiteBuilder:
    """The site's builder for `context`, as GX's build_data_docs makes it (which makes a new one,
    its templates compiled again, for every build)."""
    config = {k: v for k, v in site_config(site_dir).items() if k not in ("module_name", "class_name")}
    return OfflineSiteBuilder(data_context=context, site_name=SITE_NAME,
                              runtime_environment={"root_directory": context.root_directory}, **config)


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
