"""Peak memory of a process and everything it started, sampled from ``/proc`` (Linux).

``ru_maxrss`` sees one process: a run whose blocks are scored in forked workers or by Ray
(a raylet, its workers, the object store) spends memory elsewhere too. This samples, a
few times a second, the proportional set size (PSS) of this process and all its
descendants and keeps the largest sum. PSS, not RSS: forked workers share the parent's
pages until they write, and RSS would count those pages once per worker.
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import TracebackType

_PROC = Path("/proc")


def _parents() -> dict[int, int]:
    """Every visible process's parent, by process id."""
    parents = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone since it was listed
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        fields = stat.rsplit(")", 1)[1].split()
        parents[int(entry.name)] = int(fields[1])
    return parents


def descendants(root: int) -> set[int]:
    """``root`` and every process below it."""
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    found, waiting = {root}, [root]
    while waiting:
        for child in children.get(waiting.pop(), []):
            if child not in found:
                found.add(child)
                waiting.append(child)
    return found


def pss_kib(pid: int) -> int:
    """The process's proportional set size in KiB (0 if it is gone or unreadable)."""
    try:
        text = (_PROC / str(pid) / "smaps_rollup").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


class TreeMemory:
    """A context that samples the summed PSS of process ``root`` and its descendants
    every ``every`` seconds; ``peak_mib`` is the largest sum seen.

    Where ``/proc`` has no ``smaps_rollup`` (not Linux) the peak stays 0.
    """

    def __init__(self, root: int, *, every: float = 0.5) -> None:
        self._root, self._every = root, every
        self._peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_until_stopped, daemon=True)

    @property
    def peak_mib(self) -> float:
        """The largest summed PSS seen, in MiB."""
        return self._peak_kib / 1024

    def sample(self) -> int:
        """Sample once now; the sum in KiB."""
        total = sum(pss_kib(pid) for pid in descendants(self._root))
        self._peak_kib = max(self._peak_kib, total)
        return total

    def _sample_until_stopped(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self._every)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()
