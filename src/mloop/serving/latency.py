"""The latency model of a served model: latency = a * rows + b, fitted over recent batches.

The batcher asks it two things: how long a batch of n rows is expected to take (to decide
whether waiting for more requests pays, and whether a queue has grown past its latency bound),
and how fast requests arrive. Both are kept as running estimates, so an observation costs a few
float operations and no allocation.
"""

from __future__ import annotations

from collections import deque

# Recent batches the fit is made over: enough to smooth noise, few enough to follow a change
# in load (another model warming up, a noisy neighbour on the machine).
WINDOW = 64


class LatencyModel:
    """Least-squares fit of batch latency against batch size over the last `window` batches.

    Args:
        window: how many recent batches the fit uses.
    """

    def __init__(self, window: int = WINDOW) -> None:
        self._samples: deque[tuple[int, float]] = deque(maxlen=window)
        self._sums = [0.0, 0.0, 0.0, 0.0]  # n, t, n*n, n*t of the samples in the window
        self._a = 0.0
        self._b = 0.0
        self._arrival_gap_s: float | None = None
        self._last_arrival: float | None = None

    @property
    def per_row_s(self) -> float:
        """The fitted cost of one more row in a batch (`a`)."""
        return self._a

    @property
    def overhead_s(self) -> float:
        """The fitted fixed cost of running a batch at all (`b`)."""
        return self._b

    @property
    def samples(self) -> int:
        """How many batches the fit rests on."""
        return len(self._samples)

    def observe(self, rows: int, seconds: float) -> None:
        """Record that a batch of `rows` rows took `seconds`, and refit (in constant time)."""
        if len(self._samples) == self._samples.maxlen:
            old_n, old_t = self._samples[0]
            self._sums[0] -= old_n
            self._sums[1] -= old_t
            self._sums[2] -= old_n * old_n
            self._sums[3] -= old_n * old_t
        self._samples.append((rows, seconds))
        self._sums[0] += rows
        self._sums[1] += seconds
        self._sums[2] += rows * rows
        self._sums[3] += rows * seconds
        self._fit()

    def _fit(self) -> None:
        count = len(self._samples)
        sum_n, sum_t, sum_nn, sum_nt = self._sums
        mean_n, mean_t = sum_n / count, sum_t / count
        var_n = sum_nn - count * mean_n * mean_n
        if var_n <= 1e-9:
            # All batches had one size: the time is all overhead as far as we can tell.
            self._a, self._b = 0.0, max(mean_t, 0.0)
            return
        a = max((sum_nt - count * mean_n * mean_t) / var_n, 0.0)
        self._a = a
        self._b = max(mean_t - a * mean_n, 0.0)

    def expected_s(self, rows: int) -> float:
        """The expected latency of a batch of `rows` rows (0 before any batch ran)."""
        return self._a * rows + self._b

    def arrived(self, now: float) -> None:
        """Note that a request arrived at `now` (monotonic seconds)."""
        last = self._last_arrival
        self._last_arrival = now
        if last is None:
            return
        gap = now - last
        previous = self._arrival_gap_s
        # Exponentially weighted: recent gaps count most, old bursts fade.
        self._arrival_gap_s = gap if previous is None else 0.8 * previous + 0.2 * gap

    def expected_gap_s(self) -> float | None:
        """The expected time until the next request arrives, or None before two arrivals."""
        return self._arrival_gap_s
