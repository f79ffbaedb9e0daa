"""Reading the project's YAML files (sources, suites, watched terms) with libyaml's parser when
PyYAML was built with it, and PyYAML's own errors whichever parser read the file.

PyYAML's pure-Python loader costs about 10 ms of CPU for the 7 KB common suite, read several times
per source and run; libyaml's (yaml.CSafeLoader) reads the same documents into the same data about
ten times faster. Both use the same constructor and resolver, so the data is the same; their error
messages differ, so a document libyaml refuses is read again by the pure-Python loader, whose
error (the one users and tests have always seen) is the one raised.
"""

from __future__ import annotations

from collections.abc import Callable

import yaml

FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # CSafeLoader only when built with libyaml


def load_yaml(text: str, check_node: Callable[[yaml.Node], None] | None = None,
              loader: type | None = None):
    """The one document of `text` (None when empty). `check_node`, when given, sees the composed
    node before anything is constructed (and may raise). Raises yaml.YAMLError as
    yaml.SafeLoader would, whichever loader (default FAST_LOADER) read the document."""
    loader = loader or FAST_LOADER
    try:
        return _load(text, check_node, loader)
    except yaml.YAMLError:
        if loader is yaml.SafeLoader:
            raise
    return _load(text, check_node, yaml.SafeLoader)  # the same document, for the same error as ever


def _load(text: str, check_node: Callable[[yaml.Node], None] | None, loader: type):
    reader = loader(text)
    try:
        node = reader.get_single_node()
        if node is None:
            return None
        if check_node is not None:
            check_node(node)
        return reader.construct_document(node)
    finally:
        reader.dispose()
