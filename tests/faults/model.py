"""The vocabulary of the fault matrix: a web fault (one faulty feed or page beside good ones), a
scenario (any other hostile condition, built by a function against the real parts) and the outcome
read back from the warehouse. Fault modules (tests/faults/*_faults.py) import these."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Fault:
    name: str
    where: str            # "feed": the second feed is the fault; "page": it lists a faulty page
    outcome: str          # what the fetch log must say of the faulty URL: failed / ok
    reason: str = ""      # regex the recorded error must match
    quarantined: int = 0  # rows the quality gate must keep out (not lost: recorded with reasons)
    loads_extra: int = 0  # good rows beyond the four, that the fault's feed or page carries
    cls: str = "web"      # the class of hostile input it stands for (the headings)
    # Where a fault module defines its own content: feed(base, extra_path) -> (bytes, content type
    # or None) for a feed fault; page(base, extra_code) -> bytes, the faulty page served with 200;
    # respond(sock, path) for a page fault that misbehaves on the socket (FaultServer.handlers).
    feed: Callable[[str, str], tuple[bytes, str | None]] | None = None
    page: Callable[[str, str], bytes] | None = None
    respond: Callable[[socket.socket, str], None] | None = None


@dataclass(frozen=True)
class Scenario:
    """A fault that is not one faulty feed or page: a hostile DNS answer, a bad source file, a full
    disk, a lock held by an analyst. `run(work_dir, dsn)` builds it against the real parts and
    returns its Outcome; `expect` says in words what the defined outcome is (printed in the table)."""

    name: str
    cls: str
    expect: str
    run: Callable[[Path, str], "Outcome"]


@dataclass
class Outcome:
    fault: str
    fetch_outcome: str = ""
    reason: str = ""
    requests: int = 0        # how often the faulty URL was asked for (retries are bounded)
    loaded: int = 0
    quarantined: int = 0
    rows_lost: int = 0       # good articles that did not reach the warehouse
    rows_duplicated: int = 0
    bystander_loaded: int = 0
    peak_memory_mb: float = 0.0  # Python heap peak while fetching and parsing the victim
    seconds: float = 0.0
    # A Scenario builds its Outcome with what applies (fields it has no use for stay 0 or ""):
    ok: bool | None = None  # a Scenario's own verdict (None for a web fault: judged by the matrix)
    detail: str = ""        # a Scenario's note for the table
    extra: dict = field(default_factory=dict)
