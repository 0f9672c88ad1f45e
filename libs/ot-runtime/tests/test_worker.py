import threading

from ot_runtime.worker import BackgroundWorker


class Counting(BackgroundWorker):
    idle_seconds = 0.01
    error_seconds = 0.01

    def __init__(self, fail_first: int):
        super().__init__()
        self.calls = 0
        self.fail_first = fail_first
        self.enough = threading.Event()

    def step(self) -> bool:
        self.calls += 1
        if self.calls <= self.fail_first:
            raise RuntimeError("passing trouble")
        if self.calls >= self.fail_first + 3:
            self.enough.set()
        return False


def test_errors_are_survived_and_stop_ends_the_loop():
    worker = Counting(fail_first=2)
    worker.start()
    assert worker.enough.wait(5)  # kept going after two failures
    worker.stop(5)
    calls = worker.calls
    assert not worker._thread.is_alive()
    assert worker.calls == calls


class Backing(BackgroundWorker):
    """A step that backs off for an hour, as a retry would after a long outage."""

    def __init__(self):
        super().__init__()
        self.waiting = threading.Event()

    def step(self) -> bool:
        self.waiting.set()
        self.pause(3600)
        return True


def test_stop_cuts_a_pause_short():
    worker = Backing()
    worker.start()
    assert worker.waiting.wait(5)
    worker.stop(5)
    assert not worker._thread.is_alive() and worker.stopping
