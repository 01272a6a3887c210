"""Access tokens for the integrator's backend: cached, shared, refreshed once.

A token is handed out again until `REFRESH_MARGIN` before it expires (Amazon's LWA access
tokens live an hour: "expires_in": 3600, SP-API developer guide, "Connecting to the Selling
Partner API"). A stale token is refreshed by one caller in the whole deployment: threads of
one process queue on a local lock, processes race for the lease in `access_tokens`, and
everyone else reads the winner's token (or its failure) from the table. A token read from
the table is also kept in this process's memory (service.credentials.memory), with the
connection it was issued for, so that asking again costs neither a load nor a decryption.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from adapters.amazon.errors import AmazonError
from adapters.tables.access_tokens import AccessTokenTables, CachedToken
from adapters.tables.instants import iso
from domain.access import ADS, APIS, AccessRefused, refusal
from domain.connection import Connection
from service.api.caller import Caller
from service.credentials.memory import Entry, Mark, TokenMemory
from service.credentials.metrics import LWA_REFRESHES, TOKEN_REQUESTS
from service.credentials.outcomes import Outcomes

log = logging.getLogger(__name__)

REFRESH_MARGIN = timedelta(minutes=5)
_HITS = {api: TOKEN_REQUESTS.labels(api, "hit") for api in APIS}  # looked up once
_POLL_SECONDS = 0.02


@dataclass(frozen=True)
class Issued:
    access_token: str
    expires_at: datetime
    outcome: str  # hit, coalesced (another caller refreshed it), refreshed
    stored: tuple[str, str] | None = None  # the row's ciphertext and expiry it was read from


class AccessTokens:
    def __init__(
        self, services: Any, tables: AccessTokenTables, outcomes: Outcomes, memory: TokenMemory
    ) -> None:
        self.services = services
        self.tables = tables
        self.outcomes = outcomes
        self.memory = memory
        self._locks: weakref.WeakValueDictionary[tuple[str, str], threading.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._locks_guard = threading.Lock()
        self._holder = f"{uuid.uuid4().hex[:12]}"  # this process, in the lease column
        amazon = services.amazon.settings
        # The lease outlives the longest refresh the adapter can make (every retry).
        self.lease = timedelta(
            seconds=amazon.timeout * (amazon.max_retries + 1) + amazon.max_retry_after + 5
        )

    def recall(
        self, caller: Caller, connection_id: str, api: str, *, ahead: timedelta = timedelta(0)
    ) -> Entry | None:
        """What memory holds for the connection when it may be used without asking the
        store (see service.credentials.memory) and its token is still fresh (`ahead` of
        now, too); the event loop may ask. Hand it to `issue` as `known`."""
        entry = self.memory.recall(caller.tenant_id, connection_id, api)
        if entry is None or not self._usable(entry.issued, self.services.clock.now() + ahead):
            return None
        return entry

    def connection(
        self, caller: Caller, connection_id: str, api: str
    ) -> tuple[Connection, Entry | None, Mark]:
        """The caller's connection; what memory holds for it once the store confirmed that
        nothing changed (else None, and the connection is loaded); and the mark to hand
        `issue` with it, taken before the load, so that what is kept is never older than
        what memory was told since."""
        mark = self.memory.mark()
        entry = self.memory.checked(caller.tenant_id, connection_id, api)
        if entry is not None:
            return entry.connection, entry, mark
        return self.services.connections.get(caller, connection_id), None, mark

    def issue(
        self,
        c: Connection,
        api: str,
        request_id: str | None,
        known: Entry | None = None,
        mark: Mark | None = None,
    ) -> Issued:
        """A usable access token for `api`, or AccessRefused. `known`: what memory held
        for `c` (from `recall` or `connection`), used while it is fresh; `mark` (from
        `connection`): the token read from the store is kept in memory with `c`."""
        now = self.services.clock.now()
        refused = refusal(c, api, now)
        if refused is not None:
            TOKEN_REQUESTS.labels(api, refused[0]).inc()
            raise AccessRefused(refused[1], code=refused[0])
        if known is not None and self._usable(known.issued, now):
            _HITS[api].inc()
            return known.issued

        def recorded(e: AmazonError) -> Exception:
            # What the refusal means for the connection, recorded once under the lock.
            self.outcomes.refused(c, api, e, request_id)
            return self._failure(e.code, e.detail)

        issued = self._current(c, api, self.services.clock.now, self.services.amazon, recorded)
        TOKEN_REQUESTS.labels(api, issued.outcome).inc()
        if mark is not None and issued.stored is not None:
            self.memory.keep(mark, c, api, replace(issued, outcome="hit"))
        return issued

    def check(self, c: Connection, api: str, at: datetime, amazon: Any = None) -> Issued:
        """For the worker's refresh-health check at `at`: a token still fresh then proves the
        grant as well as a refresh would, so LWA is asked only when it is stale, and the
        refresh's token is stored for callers. Raises the refresh's AmazonError, for the
        check to record what it means, or AccessRefused when a caller's refresh failed at
        the same moment (that caller recorded it)."""
        offset = at - self.services.clock.now()

        def now() -> datetime:
            return self.services.clock.now() + offset

        return self._current(c, api, now, amazon or self.services.amazon, lambda e: e)

    def reissue(self, c: Connection, api: str, refused: str, request_id: str | None) -> Issued:
        """A token other than `refused`, which Amazon just turned down: the cached one is
        dropped if it is still that one, and a new one is issued (one refresh, as ever)."""
        row = self.tables.read(str(c.id), api)
        if row is not None and row.token_encrypted:
            if self.services.box.decrypt(row.token_encrypted) == refused:
                self.tables.expire(str(c.id), api, row.token_encrypted)
        return self.issue(c, api, request_id)

    def _current(
        self,
        c: Connection,
        api: str,
        now: Callable[[], datetime],
        amazon: Any,
        refused: Callable[[AmazonError], Exception],
    ) -> Issued:
        key = (str(c.id), api)
        row = self.tables.read(*key)
        cached = self._fresh(row, now())
        if cached is not None:
            return cached
        seen = row.generation if row is not None else 0  # outcomes after this one are ours
        with self._lock(key):
            return self._refreshed(c, api, key, seen, now, amazon, refused)

    def _refreshed(
        self,
        c: Connection,
        api: str,
        key: tuple[str, str],
        seen: int,
        clock: Callable[[], datetime],
        amazon: Any,
        refused: Callable[[AmazonError], Exception],
    ) -> Issued:
        deadline = time.monotonic() + self.lease.total_seconds()
        while True:
            now = clock()
            row = self.tables.read(*key)
            cached = self._fresh(row, now)
            if cached is not None:
                return replace(cached, outcome="coalesced")
            if row is not None and row.generation != seen and row.failure_code:
                raise self._failure(row.failure_code, row.failure_detail or "")
            if self.tables.claim(
                *key,
                self._holder,
                iso(now),
                iso(now + self.lease),
                iso(now + REFRESH_MARGIN),
            ):
                return self._refresh(
                    self._as_stored(c, api, key, now), api, key, now, amazon, refused
                )
            if time.monotonic() > deadline:
                raise self._failure(
                    "AMAZON_UNAVAILABLE", "another process's refresh did not finish in time"
                )
            time.sleep(_POLL_SECONDS)

    def _refresh(
        self,
        c: Connection,
        api: str,
        key: tuple[str, str],
        now: datetime,
        amazon: Any,
        refused: Callable[[AmazonError], Exception],
    ) -> Issued:
        box = self.services.box
        try:
            if api == ADS:
                # On the LWA host of the advertiser's region (api.amazon.com, api.amazon.co.uk,
                # api.amazon.co.jp: "Retrieve access and refresh tokens", advertising.amazon.com/
                # API/docs/en-us/guides/get-started/retrieve-access-token).
                tokens = amazon.refresh_ads(box.decrypt(c.ads_refresh_token_encrypted), c.region)
            else:
                tokens = amazon.refresh(box.decrypt(c.refresh_token_encrypted))
        except AmazonError as e:
            LWA_REFRESHES.labels(api, e.code).inc()
            try:  # recorded before the lease is let go: whoever claims it next sees it
                error = refused(e)
            finally:
                self.tables.fail(*key, self._holder, e.code, e.detail)
            raise error from None
        except BaseException:
            self.tables.fail(*key, self._holder, "INTERNAL_ERROR", "the refresh failed")
            raise
        LWA_REFRESHES.labels(api, "ok").inc()
        self.outcomes.succeeded(api)
        expires_at = now + timedelta(seconds=tokens.expires_in)
        self.tables.store(
            *key, self._holder, box.encrypt(tokens.access_token), iso(expires_at), iso(now)
        )
        return Issued(tokens.access_token, expires_at, "refreshed")

    def _as_stored(
        self, c: Connection, api: str, key: tuple[str, str], now: datetime
    ) -> Connection:
        """The connection as the store has it now, under the lease: a caller that loaded it
        before another's refresh was refused (a revocation recorded meanwhile) must not ask
        LWA again with the refused grant. One load per refresh, an hour apart."""
        stored = self.services.app.load_without_tenant_check(c.id)
        refused = refusal(stored, api, now)
        if refused is not None:
            self.tables.fail(*key, self._holder, *refused)
            raise self._failure(*refused)
        return stored

    def _fresh(self, row: CachedToken | None, now: datetime) -> Issued | None:
        if row is None or not row.token_encrypted or not row.expires_at:
            return None
        expires_at = datetime.fromisoformat(row.expires_at)
        if expires_at - REFRESH_MARGIN <= now:
            return None
        token = self.services.box.decrypt(row.token_encrypted)
        return Issued(token, expires_at, "hit", (row.token_encrypted, row.expires_at))

    @staticmethod
    def _usable(issued: Issued, now: datetime) -> bool:
        return issued.expires_at - REFRESH_MARGIN > now

    def _failure(self, code: str, detail: str) -> AccessRefused:
        return self.outcomes.problem(code, detail)

    def _lock(self, key: tuple[str, str]) -> threading.Lock:
        with self._locks_guard:
            lock = self._locks.get(key)
            if lock is None:
                lock = threading.Lock()
                self._locks[key] = lock
            return lock
