"""The traffic router: which served version answers a request, and which ones shadow it.

Weights split traffic between versions (a champion 90 and a challenger 10, say). Without a
sticky key the split is exact rather than random: smooth weighted round-robin (as nginx does it)
hands out versions so that after any N requests each version has had its share of N to within
one request. With a sticky key (a user id in a header, for an A/B test) the version comes from a
hash of the key, so one key always meets the same version while the weights stay the same;
across many keys the shares match the weights as closely as a uniform hash allows.

Shadow versions get a copy of every request; their answers are compared and logged by the
caller, and never returned.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mloop.errors import InvalidInputError

# Sticky keys hash into this many buckets; weights are resolved to buckets, so a 0.01% share
# is the finest a sticky split can express.
BUCKETS = 10_000


@dataclass(frozen=True, slots=True)
class Split:
    """A traffic split.

    Attributes:
        weights: each target's share, in any unit (90 and 10, or 0.9 and 0.1); zero weights
            are allowed as long as one is positive.
        shadows: targets that get a copy of every request and never answer it.
    """

    weights: Mapping[str, float]
    shadows: Sequence[str] = ()

    def __post_init__(self) -> None:
        if not self.weights:
            raise InvalidInputError("a traffic split needs at least one target", field="traffic")
        for target, weight in self.weights.items():
            if not weight >= 0:  # also refuses NaN
                raise InvalidInputError(
                    f"the traffic weight of {target!r} is {weight}; weights are >= 0",
                    field="traffic",
                )
        if sum(self.weights.values()) <= 0:
            raise InvalidInputError(
                "every traffic weight is 0: give at least one target a positive weight",
                field="traffic",
            )


class TrafficRouter:
    """Picks the target of each request according to a `Split`.

    Args:
        split: the weights and shadows.
    """

    def __init__(self, split: Split) -> None:
        self.split = split
        total = sum(split.weights.values())
        self._targets = list(split.weights)
        self._weights = [w / total for w in split.weights.values()]
        self._current = [0.0] * len(self._targets)
        self._lock = threading.Lock()
        # Cumulative bucket bounds for sticky keys: target i owns [bounds[i-1], bounds[i]).
        bounds: list[int] = []
        running = 0.0
        for weight in self._weights:
            running += weight
            bounds.append(round(running * BUCKETS))
        bounds[-1] = BUCKETS
        self._bounds = bounds

    @property
    def targets(self) -> list[str]:
        """The targets that may answer (weight above zero)."""
        return [t for t, w in zip(self._targets, self._weights, strict=True) if w > 0]

    @property
    def shadows(self) -> Sequence[str]:
        """The targets that get copies."""
        return self.split.shadows

    def choose(self, sticky_key: str | bytes | None = None) -> str:
        """The target that answers this request.

        Args:
            sticky_key: a key (user id, session id) that must always meet the same target.
        """
        if sticky_key is not None:
            return self._targets[self._bucket_target(sticky_key)]
        if len(self._targets) == 1:
            return self._targets[0]
        with self._lock:
            current = self._current
            best = 0
            for index, weight in enumerate(self._weights):
                current[index] += weight
                if current[index] > current[best]:
                    best = index
            current[best] -= 1.0
            return self._targets[best]

    def _bucket_target(self, key: str | bytes) -> int:
        data = key.encode("utf-8") if isinstance(key, str) else key
        bucket = int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big") % BUCKETS
        for index, bound in enumerate(self._bounds):
            if bucket < bound:
                return index
        return len(self._bounds) - 1  # pragma: no cover - the last bound is BUCKETS
