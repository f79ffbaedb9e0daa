"""Stories across outlets: which articles are the same story (a wire copy retitled by each outlet,
trimmed by a paragraph), by the MinHash signature of their bodies.

Pure functions only; the warehouse keeps the signatures and the LSH band hashes (news.story_member,
its band_keys under a GIN index), so every worker sees one shared index (warehouse.cluster_stories
runs them at load).

- `signature(body)`: MinHash (datasketch) of the body's word 5-shingles, case-folded, NFC. An
  article of fewer than MIN_WORDS words has none and is a story of its own.
- `band_keys(signature)`: BANDS hashes of ROWS values each (and the band's number); two articles
  sharing one are candidates, kept when the estimated Jaccard similarity of their bodies is at
  least THRESHOLD, they come from two sources and were published within WINDOW_DAYS of each
  other. (Within one source, near-identical bodies are its own templates, a routine report or a
  weather page, not a story told twice: one story at two URLs is one identity already.)
- `plan_clusters(...)`: the new articles' clusters, as the connected components of the kept pairs,
  so the clusters do not depend on which worker loaded which article first.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
from datasketch import MinHash

NUM_PERM = 128
# 28 bands of 3 values: a pair of similarity 0.4 shares a band with probability 1 - (1 - 0.4**3)**28
# = 0.84, one of 0.5 with 0.98, one of 0.1 with 0.03 (the candidates the load then compares). A
# copy missed as a pair is mostly found through a third (clusters are connected components): on
# the benchmark, 42 bands gave pair recall 0.975 with 70 candidates an article, 28 give 0.972 with
# 37, and each band is a key every load looks up (BENCHMARKS.md, "Story clusters").
BANDS, ROWS = 28, 3
THRESHOLD = 0.4  # estimated Jaccard similarity of the bodies' shingles that makes one story
# Words per shingle: 5 rather than 3, because stories on one topic share phrasing (templates,
# boilerplate) in runs of a few words, and copies of one story share whole sentences. On the
# benchmark's stories the most similar pair of different stories is at 0.33 with 5 (0.48 with 3).
SHINGLE = 5
MIN_WORDS = 12  # below this a body says too little to tell stories apart
WINDOW_DAYS = 3  # copies published further apart are other stories
# Fixed permutations (seed 1) and a fixed shingle hash: a signature means the same in every process.
_PERMUTATIONS = MinHash(num_perm=NUM_PERM, seed=1).permutations
_SCHEME = "affine32"
_WORD = re.compile(r"\w+")


def shingles(body: str) -> set[bytes]:
    words = _WORD.findall(unicodedata.normalize("NFC", body or "").casefold())
    if len(words) < MIN_WORDS:
        return set()
    return {" ".join(words[i:i + SHINGLE]).encode("utf-8") for i in range(len(words) - SHINGLE + 1)}


def signature(body: str) -> bytes | None:
    """The body's MinHash signature (NUM_PERM values below 2**32, as little-endian 32-bit
    integers: 512 bytes, what the warehouse keeps), or None for a body too short."""
    found = shingles(body)
    if not found:
        return None
    # crc32 is four times faster than datasketch's default sha1 here and spreads shingles as well.
    minhash = MinHash(num_perm=NUM_PERM, permutations=_PERMUTATIONS, scheme=_SCHEME, hashfunc=zlib.crc32)
    minhash.update_batch(list(found))
    return minhash.hashvalues.astype("<u4").tobytes()


def band_keys(sig: bytes) -> list[int]:
    """One signed 64-bit key (PostgreSQL's bigint) per band: a hash of the band's number and its
    ROWS signature values, so one index on the key finds every band."""
    width = ROWS * 4
    return [int.from_bytes(hashlib.blake2b(sig[b * width:(b + 1) * width], digest_size=8, salt=b.to_bytes(16, "little"))
                           .digest(), "little", signed=True) for b in range(BANDS)]


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of two signatures: the share of equal values."""
    return float(np.count_nonzero(np.frombuffer(a, "<u4") == np.frombuffer(b, "<u4"))) / NUM_PERM


def same_story(a: bytes | None, b: bytes | None) -> bool:
    return a is not None and b is not None and similarity(bytes(a), bytes(b)) >= THRESHOLD


@dataclass
class ClusterPlan:
    """What the load writes: a cluster for each new article (an existing cluster id, or a new
    cluster's key shared by its articles), and existing clusters merged into another."""

    existing: dict[int, int] = field(default_factory=dict)  # article_id -> cluster_id
    new: dict[int, int] = field(default_factory=dict)  # article_id -> key of a new cluster
    merged: dict[int, int] = field(default_factory=dict)  # cluster_id -> cluster_id it joins


def plan_clusters(articles: Iterable[int], pairs: Iterable[tuple[int, int, int | None]]) -> ClusterPlan:
    """Clusters for `articles` (ids loaded now) from their kept candidate pairs (article, other
    article, the other's cluster or None when it is loaded now too). Connected components: an
    article joining two clusters merges them into the older (lower id)."""
    parent: dict[tuple, tuple] = {}

    def find(node: tuple) -> tuple:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def union(a: tuple, b: tuple) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            # a cluster (kind 0) roots its component, the oldest first, so ids stay stable
            first, second = sorted((ra, rb))
            parent[second] = first

    ids = list(articles)
    for article in ids:
        find((1, article))
    for article, other, cluster in pairs:
        union((1, article), (0, cluster) if cluster is not None else (1, other))
    plan = ClusterPlan()
    for article in ids:
        kind, key = find((1, article))
        (plan.existing if kind == 0 else plan.new)[article] = key
    for node in list(parent):
        if node[0] == 0:
            root = find(node)
            if root != node:
                plan.merged[node[1]] = root[1]
    return plan
