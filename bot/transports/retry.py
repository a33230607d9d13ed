"""The retry wait the messenger adapters share: as long as the server asked, else a backoff."""

from __future__ import annotations

from collections.abc import Callable

from tenacity import RetryCallState
from tenacity.wait import WaitBaseT


def wait_as_asked(
    asked: Callable[[BaseException], float | None], otherwise: WaitBaseT | None = None
) -> Callable[[RetryCallState], float]:
    """A tenacity wait: the seconds ``asked`` reads from the failure, else ``otherwise``'s."""

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        seconds = asked(error) if error is not None else None
        if seconds is not None:
            return seconds
        return float(otherwise(state)) if otherwise is not None else 0.0

    return wait
