"""The app's one shared cache, wrapped so that it never raises, and the one single-flight.

Both the query runner (queries/runner.py: query results and their "last good" copies)
and the response cache (serving/response_cache.py: rendered callback bodies) keep
their values in the same flask-caching store (per process, or Redis shared by every
worker), through `SafeCache`: a cache that is down only costs speed, so every call
logs the failure on `accurx.warehouse` and answers as if the key were absent. A cache
that could not be reached (refused, timed out: the Redis client's connect and read
limits are ACCURX_REDIS_TIMEOUT_SECONDS) is then left alone for the warehouse's
outage cool-down, so a Redis that drops packets costs one timeout per cool-down and
worker, not one per call.

`SingleFlight` gives parallel requests for the same key one lock, so that the first
computes the value and the others wait for it instead of all computing it. A holder
that could not store its value (a failure, a stale answer) leaves its outcome on
release, and the callers that were waiting take that outcome instead of computing it
again: a slow warehouse is asked once, not once per waiting request.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

events = logging.getLogger("accurx.warehouse")


class SafeCache:
    """A flask-caching Cache (or None: no cache) whose calls never raise.

    After a failure to reach the store, calls skip it for `cooldown_seconds`."""

    def __init__(self, store: Any = None, cooldown_seconds: float = 0):
        self.store = store
        self.cooldown_seconds = cooldown_seconds
        self._skip_until = 0.0

    @property
    def enabled(self) -> bool:
        return self.store is not None

    def fill(self) -> float:
        """How full a bounded store is (entries / threshold); 0 for an unbounded one
        (Redis, none). Reads cachelib's SimpleCache `_cache` and FileSystemCache
        `_file_count` with their `_threshold` (cachelib is pinned)."""
        backend = getattr(self.store, "cache", None)
        threshold = getattr(backend, "_threshold", 0)
        if not threshold:
            return 0.0
        entries = getattr(backend, "_cache", None)
        if entries is not None:
            return len(entries) / threshold
        try:
            return getattr(backend, "_file_count", 0) / threshold
        except Exception as exc:  # noqa: BLE001  (a store that cannot count is not full)
            self._failed("fill", exc)
            return 0.0

    def get(self, key: str):
        """The value stored under `key` (None when absent, when there is no cache, or
        when the cache is down: an outage only costs speed)."""
        if self._skipped():
            return None
        try:
            return self.store.get(key)
        except Exception as exc:  # noqa: BLE001  (a cache outage slows the app, never breaks it)
            self._failed("get", exc)
            return None

    def set(self, key: str, value: Any, timeout: int | None = None) -> None:
        """Store `value` under `key` (a cache that is down is logged and skipped)."""
        if self._skipped():
            return
        try:
            if timeout is None:
                self.store.set(key, value)
            else:
                self.store.set(key, value, timeout=timeout)
        except Exception as exc:  # noqa: BLE001  (as in get)
            self._failed("set", exc)

    def add(self, key: str, value: Any, timeout: int) -> bool:
        """Store `value` under `key` only if nothing is there (atomic in Redis): True when
        stored, and also when there is no working cache (the caller goes ahead)."""
        if self._skipped():
            return True
        try:
            return bool(self.store.add(key, value, timeout=timeout))
        except Exception as exc:  # noqa: BLE001  (as in get)
            self._failed("add", exc)
            return True

    def delete(self, key: str) -> None:
        if self._skipped():
            return
        try:
            self.store.delete(key)
        except Exception as exc:  # noqa: BLE001  (as in get)
            self._failed("delete", exc)

    def _skipped(self) -> bool:
        return self.store is None or time.monotonic() < self._skip_until

    def _failed(self, operation: str, exc: BaseException) -> None:
        facts = {"event": f"cache_{operation}_failed", "cause": type(exc).__name__}
        if self.cooldown_seconds and _unreachable(exc):
            self._skip_until = time.monotonic() + self.cooldown_seconds
            facts["skipped_seconds"] = self.cooldown_seconds
        events.warning(json.dumps(facts))


def _unreachable(exc: BaseException) -> bool:
    """True for a store that could not be reached (refused, reset, timed out), as opposed
    to one that could not handle this one value."""
    if isinstance(exc, (OSError, TimeoutError)):
        return True
    try:
        from redis import exceptions as redis_errors
    except ImportError:
        return False
    return isinstance(exc, (redis_errors.ConnectionError, redis_errors.TimeoutError))


class SingleFlight:
    """Per-key locks, created on demand and dropped when nobody holds or waits for them.

    Each key also keeps the outcome its last holder left on `release` (None when it
    stored its value), for the callers that waited meanwhile; it goes with the lock."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._entries: dict[str, list] = {}  # key -> [lock, holders and waiters, outcome]

    def acquire(self, key: str, timeout: float | None = None) -> bool:
        """Hold `key`'s lock (True), or give up after `timeout` seconds (False; None
        waits for as long as it takes)."""
        with self._mutex:
            entry = self._entries.setdefault(key, [threading.Lock(), 0, None])
            entry[1] += 1
        if entry[0].acquire(timeout=-1 if timeout is None else timeout):
            return True
        self._leave(key)
        return False

    def release(self, key: str, outcome: Any = None) -> None:
        """Let go of `key`, leaving `outcome` (e.g. the failure) for those waiting."""
        with self._mutex:
            entry = self._entries[key]
            entry[2] = outcome
        entry[0].release()
        self._leave(key)

    def outcome(self, key: str) -> Any:
        """What the previous holder of `key` left while the caller (now holding it)
        waited: None when it stored its value or when nobody held it before."""
        with self._mutex:
            entry = self._entries.get(key)
            return None if entry is None else entry[2]

    def _leave(self, key: str) -> None:
        with self._mutex:
            entry = self._entries[key]
            entry[1] -= 1
            if entry[1] == 0:
                del self._entries[key]

    def __len__(self) -> int:
        with self._mutex:
            return len(self._entries)


class LastGoodCopies:
    """This process's own budget of "last good" copies, apart from the shared cache.

    The shared cache holds query results and rendered responses beside the last good
    copies, and a flood of distinct requests can push anything out of it. Here up to
    `max_entries` copies are kept per process, each for `max_age_seconds`. A full
    budget makes room only by dropping a copy stored once (the oldest of them): a
    result asked for again and again (stored anew each time the cache expires) is never
    pushed out by a flood of requests each made once. `put` returns whether it kept it.
    """

    def __init__(self, max_entries: int, max_age_seconds: float):
        self.max_entries = max_entries
        self.max_age_seconds = max_age_seconds
        self._lock = threading.Lock()
        self._entries: dict[str, list] = {}  # key -> [stored at (time.time), value, times stored]

    def get(self, key: str):
        """(stored at, value), or None when absent or older than max_age_seconds."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or time.time() - entry[0] > self.max_age_seconds:
                return None
            return entry[0], entry[1]

    def put(self, key: str, value: Any) -> bool:
        now = time.time()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                entry[:] = [now, value, entry[2] + 1]
                return True
            if len(self._entries) >= self.max_entries:
                self._drop_expired(now)
            if len(self._entries) >= self.max_entries:
                once = [k for k, e in self._entries.items() if e[2] == 1]
                if not once:
                    return False
                del self._entries[min(once, key=lambda k: self._entries[k][0])]
            self._entries[key] = [now, value, 1]
            return True

    def _drop_expired(self, now: float) -> None:
        for key in [k for k, e in self._entries.items() if now - e[0] > self.max_age_seconds]:
            del self._entries[key]

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
