"""Refused sign-ins, counted so that nobody outside can fill the audit log.

A valid token always signs in: a token is 32 random bytes, which no one guesses, so this
count is not what protects it, and a shared address (a proxy) must not lock every user
out. A refused token is audited while its address (an IPv6 /64) has had fewer than
:data:`PER_ADDRESS` refusals and the process fewer than :data:`PER_PROCESS` within
:data:`WINDOW` seconds; past either it is answered 429, unaudited. Each worker process
counts its own, in memory.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import deque
from typing import Annotated, Final

from fastapi import Depends, Request

PER_ADDRESS: Final = 10
"""Audited refusals of one address within :data:`WINDOW`."""
PER_PROCESS: Final = 100
"""Audited refusals of all addresses together within :data:`WINDOW`: many addresses
(a /48 holds 65,536 /64s) must not add up to an unbounded audit log either."""
WINDOW: Final = 60.0
MAX_ADDRESSES: Final = 10_000
"""Addresses whose refusals are remembered at most (stale ones go first)."""


class TooManyRefusalsError(Exception):
    """Refused too often lately: the caller must wait before trying again."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too many refused sign-ins: try again in {math.ceil(retry_after)} s")
        self.retry_after = retry_after


def address_bucket(host: str) -> str:
    """What refusals are counted by: the IPv4 address (also when it comes IPv4-mapped,
    as a dual-stack server sees it), or the IPv6 /64 (one host holds a whole /64)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _drop_stale(times: deque[float], now: float) -> None:
    while times and now - times[0] > WINDOW:
        times.popleft()


class RefusedSignIns:
    """Recent refused sign-ins, by address and for the whole process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_address: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()

    def __len__(self) -> int:
        """Addresses remembered."""
        return len(self._by_address)

    def refuse(self, host: str) -> None:
        """Count a refusal of ``host``, to be audited; raise TooManyRefusalsError (and
        count nothing) when its address or the process is already at its limit."""
        key, now = address_bucket(host), time.monotonic()
        with self._lock:
            times = self._by_address.setdefault(key, deque())
            _drop_stale(times, now)
            _drop_stale(self._all, now)
            for recent, limit in ((times, PER_ADDRESS), (self._all, PER_PROCESS)):
                if len(recent) >= limit:
                    raise TooManyRefusalsError(WINDOW - (now - recent[0]))
            times.append(now)
            self._all.append(now)
            if len(self._by_address) > MAX_ADDRESSES:
                self._sweep(now)

    def _sweep(self, now: float) -> None:
        for key in [k for k, t in self._by_address.items() if not t or now - t[-1] > WINDOW]:
            del self._by_address[key]
        while len(self._by_address) > MAX_ADDRESSES:  # all recent: the oldest remembered go
            del self._by_address[next(iter(self._by_address))]


def get_refusals(request: Request) -> RefusedSignIns:
    """The app's count of refused sign-ins (made with the app)."""
    refusals: RefusedSignIns = request.app.state.sign_in_refusals
    return refusals


RefusalsDep = Annotated[RefusedSignIns, Depends(get_refusals)]
