"""A background loop in a daemon thread, stopped cleanly: the shape of the outbox relay, the
event consumers and schedulers."""
from __future__ import annotations

import logging
import threading

log = logging.getLogger("ot.worker")


class BackgroundWorker:
    """Calls `step()` until `stop()`. `step` returns True when it did work (call again at once)
    or False when idle (wait `idle_seconds` first). An error is logged and retried after
    `error_seconds`, so one bad moment never kills the loop and a lasting one does not spin.

    A step that waits inside (a retry's backoff) waits with `pause()`, which `stop()` cuts short,
    and checks `stopping` before its next attempt: stopping never waits out a backoff."""

    name = "worker"
    idle_seconds = 0.5
    error_seconds = 1.0

    def __init__(self):
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self) -> bool:
        raise NotImplementedError

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def pause(self, seconds: float) -> None:
        """Wait `seconds`, or less when `stop()` is called meanwhile (usable as tenacity's sleep)."""
        self._stop.wait(seconds)

    def wake(self) -> None:
        """There is work now (e.g. a commit added outbox rows): end the idle wait at once. A wake
        during a step makes the next idle wait return at once, so no wake is lost."""
        self._wake.set()

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.step():
                    continue
            except Exception:
                log.exception("background step failed; retrying", extra={"worker": self.name})
                self._stop.wait(self.error_seconds)
                continue
            self._wake.wait(self.idle_seconds)  # the poll stays as the fallback of every wake-up
            self._wake.clear()

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Let the step in hand finish (its waits are cut short), then stop."""
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)
