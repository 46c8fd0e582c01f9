"""Bounded waiting on a condition: tests decide outcomes on state, never on elapsed time."""
import time

DEFAULT_TIMEOUT = 10.0


def wait_until(predicate, timeout=DEFAULT_TIMEOUT, what="condition", interval=0.01):
    """Polls predicate() until it is truthy and returns its value; fails the test after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)
