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
        self._thread: threading.Thread | None = None

    def step(self) -> bool:
        raise NotImplementedError

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def pause(self, seconds: float) -> None:
        """Wait `seconds`, or less when `stop()` is called meanwhile (usable as tenacity's sleep)."""
        self._stop.wait(seconds)

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.step():
                    continue
                pause = self.idle_seconds
            except Exception:
                log.exception("background step failed; retrying", extra={"worker": self.name})
                pause = self.error_seconds
            self._stop.wait(pause)

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Let the step in hand finish (its waits are cut short), then stop."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)
