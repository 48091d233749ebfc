"""Exceptions of the Realtime side of the fake."""

from __future__ import annotations

from typing import Any


class ConnectionGoneError(Exception):
    """The socket is closed (by the client or by a scripted fault); stop producing events."""


class EventError(Exception):
    """A client event (or session) the service would answer with an `error`."""

    def __init__(
        self,
        message: str,
        code: str | None = "invalid_value",
        param: str | None = None,
        type_: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.message, self.code, self.param, self.type = message, code, param, type_

    def as_error(self, event_id: str | None = None) -> dict[str, Any]:
        return {
            "type": self.type,
            "code": self.code,
            "message": self.message,
            "param": self.param,
            "event_id": event_id,
        }
