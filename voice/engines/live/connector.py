"""Opening Live upstreams: the model to use, resuming with the newest handle, and seeding a fresh session."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from voice.context import Turn
from voice.engines.live.upstream import OpenUpstream, ResumptionStore, Upstream
from voice.gemini.events import ModelUnavailable, UpstreamError, UpstreamRefused
from voice.gemini.roster import ModelRoster

logger = logging.getLogger(__name__)

History = Callable[[], Awaitable[list[Turn]]]


class LiveUnavailable(Exception):
    """Live cannot be had now: every model refused, quota, or repeated failures."""


class Connector:
    """Opens upstreams for one connection; keeps the newest resumption handle it was given."""

    def __init__(
        self, *, open_upstream: OpenUpstream, roster: ModelRoster, resumption: ResumptionStore, session_id: str
    ) -> None:
        self._open_upstream = open_upstream
        self._roster = roster
        self._resumption = resumption
        self._session_id = session_id
        self._handle = ""
        self._handle_model = ""

    @property
    def preferred_model(self) -> str:
        usable = self._candidate_models()
        return usable[0] if usable else ""

    async def load(self) -> None:
        """Read the handle a previous connection of this session left."""
        self._handle_model, self._handle = await self._resumption.load_resumption()

    def remember(self, model: str, handle: str) -> None:
        """The handle this connection resumes with from now on (the caller stores it for other workers)."""
        self._handle, self._handle_model = handle, model

    async def open(self, history: History) -> Upstream:
        """An open upstream: resumed when a handle is kept, otherwise fresh and seeded with ``history()``.

        A resumption that fails before the session is set up, whatever the close code, costs only the handle:
        Google's codes for an expired or foreign handle are not documented (1007 and 1008 are both seen). The
        fresh session is opened at once; only its own failure is the caller's to count.

        Raises:
            LiveUnavailable: no configured model can be used.
            UpstreamRefused, UpstreamError: connecting afresh failed.
        """
        for model in self._candidate_models():
            handle = self._handle if model == self._handle_model else ""
            if handle:
                try:
                    return await self._open_upstream(model, handle)
                except UpstreamRefused:
                    raise  # refused at the upgrade: the handle was never looked at
                except UpstreamError as error:
                    logger.warning(
                        "Live session %s: resuming failed (%s %s); starting afresh from the stored history",
                        self._session_id,
                        error.code,
                        error.reason,
                    )
                    await self.forget_handle()
            try:
                upstream = await self._open_upstream(model, "")
            except ModelUnavailable:
                self._roster.mark_gone(model)
                continue
            await upstream.seed(await history())
            return upstream
        raise LiveUnavailable("no Live model is available: " + ", ".join(self._roster.models))

    async def forget_handle(self) -> None:
        """The handle is no use: neither this connection nor a later one resumes with it."""
        self._handle = ""
        await self._resumption.save_resumption(self._handle_model, "")

    def _candidate_models(self) -> list[str]:
        usable = self._roster.usable()
        if self._handle and self._handle_model in usable:
            # A handle resumes only on the model that issued it.
            usable.remove(self._handle_model)
            usable.insert(0, self._handle_model)
        return usable
