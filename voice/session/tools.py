"""Runs the tools a model calls during a session: site tools and client state setters."""

from __future__ import annotations

import json
import logging
from typing import Any

from channels.db import database_sync_to_async

from voice.engines.base import ToolSpec
from voice.session import events as ev
from voice.session import site_tools as tools

logger = logging.getLogger(__name__)

MAX_CONTEXT_IN_PROMPT = 16 * 1024  # characters of app context shown to the model


class ToolRunner:
    """The tools offered in one session, and their execution."""

    def __init__(self) -> None:
        self.setters: dict[str, tools.StateSetter] = {}

    def set_context(self, context: dict[str, Any]) -> None:
        self.setters = tools.state_setters(context)

    def specs(self) -> tuple[ToolSpec, ...]:
        return (*tools.SITE_TOOLS, *(s.spec for s in self.setters.values()))

    def instructions(self, base: str, context: dict[str, Any]) -> str:
        """The base instructions plus the client's app context, capped."""
        shown = {k: v for k, v in context.items() if k != "stateSetters"}
        if not shown:
            return base
        text = json.dumps(shown, ensure_ascii=False)
        if len(text) > MAX_CONTEXT_IN_PROMPT:
            text = text[:MAX_CONTEXT_IN_PROMPT] + " [truncated]"
        return f"{base}\n\nThe user's app context (JSON): {text}"

    async def run(self, name: str, arguments: str) -> tuple[Any, list[ev.SessionEvent]]:
        """Execute a call: its output for the model, and what the client must be told."""
        args = tools.parse_arguments(arguments)
        setter = self.setters.get(name)
        if setter is not None:
            notice = ev.SetState(setter.state_key, setter.setter_key, args)
            return {"ok": True, "applied": f"{setter.state_key}.{setter.setter_key}"}, [notice]
        result = await database_sync_to_async(tools.run_site_tool)(name, args)
        if result is None:
            logger.info("model called an unknown tool %r", name)
            return {"error": f"unknown tool {name}"}, []
        if result.page is None:
            return result.output, []
        page = result.page
        return result.output, [ev.Navigation(page=page.slug, path=page.path, title=page.title)]
