"""How much of the helper's audio the child's client has played: estimated from what was sent and when, and
corrected by the client's own reports of played samples."""

from __future__ import annotations

import time
from collections.abc import Callable

from voice.audio_format import OUTPUT_RATE_HZ

# A client that had nothing queued waits this long before it starts playing (the browser player's pre-roll);
# the estimate assumes it so that the tail of a reply is not taken for played too early.
DEFAULT_START_DELAY_SECONDS = 0.15


class PlaybackClock:
    """One connection's downlink as the client plays it, in 24 kHz samples counted from the connection's start.

    Without reports the client is assumed to play everything in real time from the moment it arrives (after
    ``start_delay`` when its queue was empty). A report (:meth:`reported`) re-anchors the estimate. All methods
    are O(1): it is consulted for every uplink frame.
    """

    def __init__(
        self,
        *,
        rate: int = OUTPUT_RATE_HZ,
        start_delay: float = DEFAULT_START_DELAY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = rate
        self._start_delay = start_delay
        self._clock = clock
        self._sent = 0  # samples sent (minus what the client dropped when it flushed)
        self._drained_at = clock()  # when everything sent will have been played
        self._reply_start = 0  # the sample the current reply begins at

    @property
    def sent_samples(self) -> int:
        return self._sent

    def sent(self, samples: int) -> None:
        """``samples`` of helper audio went to the client just now."""
        now = self._clock()
        starts = self._drained_at if self._drained_at > now else now + self._start_delay
        self._drained_at = starts + samples / self._rate
        self._sent += samples

    def reported(self, played_samples: int) -> None:
        """The client says it has played ``played_samples`` of this connection's audio."""
        unplayed = max(0, self._sent - min(played_samples, self._sent))
        self._drained_at = self._clock() + unplayed / self._rate

    def unplayed_seconds(self) -> float:
        return max(0.0, self._drained_at - self._clock())

    def playing(self) -> bool:
        """The client still has helper audio to play."""
        return self._drained_at > self._clock()

    def played_samples(self) -> int:
        """Samples played so far, counted from the connection's start."""
        unplayed = min(self._sent, round(self.unplayed_seconds() * self._rate))
        return self._sent - unplayed

    def start_reply(self) -> None:
        """The next audio sent begins a new reply: positions are counted from here."""
        self._reply_start = self._sent

    def reply_sent(self) -> int:
        """Samples of the current reply sent so far."""
        return self._sent - self._reply_start

    def reply_played(self) -> int:
        """Samples of the current reply the client has played."""
        return max(0, self.played_samples() - self._reply_start)

    def flush(self) -> int:
        """The client drops what it has not played: returns how much of the current reply it had played."""
        played = self.played_samples()
        position = max(0, played - self._reply_start)
        self._sent = played
        self._reply_start = min(self._reply_start, played)
        self._drained_at = self._clock()
        return position
