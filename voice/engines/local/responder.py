"""The offline responder: understands the user's words, asks for one tool, answers from its result.

There is no language model here. Every answer is either built from a tool result (site search,
page navigation, site information, client state setters) or says plainly what the engine can
do offline, using the site's own page names as examples.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from voice.engines.local import replies
from voice.engines.local.intents import INTENT_TOOL_NAMES, NAVIGATE, SEARCH, SITE_INFO, understand
from voice.engines.local.text import normalize

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """Either a finished ``reply`` or a ``tool`` call whose result ``Responder.answer`` reads."""

    reply: str = ""
    tool: str = ""
    arguments: dict[str, Any] = field(default_factory=dict)


class Responder:
    """Turns an utterance into a plan, and a plan plus tool output into a spoken answer.

    Only tools the session offers are called; a session offering none gets the site tools.
    """

    def __init__(self, hints: tuple[str, ...] = (), tools: tuple[Any, ...] = ()) -> None:
        self.hints = hints
        self.tools = tools
        self._pages: list[replies.Page] = []  # last pages found, for "open the first one"

    def plan(self, text: str) -> Plan:
        """What to do about ``text``: reply at once, or call a tool first."""
        intent = understand(text, self.hints, self.tools)
        logger.debug("intent %s %s", intent.kind, intent.tool)
        offered = {tool.name for tool in self.tools} or set(INTENT_TOOL_NAMES)
        if intent.kind == "tool" and intent.tool in offered:
            return Plan(tool=intent.tool, arguments=intent.arguments)
        if intent.kind == "follow_up":
            return self._follow_up(intent.ordinal)
        if intent.kind == "greeting":
            return Plan(f"Hello! {self._abilities()} What would you like to do?")
        if intent.kind == "thanks":
            return Plan("You're welcome. Anything else?")
        if intent.kind == "goodbye":
            return Plan("Goodbye!")
        if intent.kind == "empty":
            return Plan("Sorry, I didn't catch that. Could you say it again?")
        if intent.kind == "help":
            return Plan(f"{self._abilities()} {self._examples()}")
        heard = normalize(text)
        return Plan(f"I heard \"{heard}\", but I don't know how to help with that. "
                    f"I'm running offline, so {self._abilities()} "
                    f"{self._examples()}")  # fmt: skip

    def answer(self, plan: Plan, output: str | None) -> str:
        """The spoken answer to ``plan`` given its tool's output (None: no answer came)."""
        if output is None:
            return "The site didn't answer in time. Please try again."
        data = replies.parse_output(output)
        error = replies.failure(data)
        args = plan.arguments
        if plan.tool == NAVIGATE:
            page = str(args.get("page") or args.get("path") or "that")
            if error is not None:
                return replies.not_found_reply(page, data)
            return replies.navigate_reply(page, data)
        if error is not None:
            reason = f": {error}" if error else ""
            return f"Sorry, that didn't work{reason}."
        if plan.tool == SEARCH:
            self._pages = replies.pages_in(data)
            return replies.search_reply(str(args.get("query", "that")), data)
        if plan.tool == SITE_INFO:
            return replies.info_reply(args.get("topic"), data)
        return replies.setter_reply(plan.tool, args)

    def _follow_up(self, ordinal: int) -> Plan:
        if not self._pages:
            return Plan("I haven't found any pages yet. Ask me to search for something first.")
        index = min(ordinal, len(self._pages) - 1) if ordinal >= 0 else -1
        page = self._pages[index]
        arguments = {"page": page.title, **({"path": page.path} if page.path else {})}
        return Plan(tool=NAVIGATE, arguments=arguments)

    def _abilities(self) -> str:
        abilities = ["search this site", "open a page for you", "tell you about the site"]
        setters = [t for t in self.tools if t.name not in INTENT_TOOL_NAMES and t.description]
        abilities += [t.description.rstrip(".").lower() for t in setters[:2]]
        return f"I can {', '.join(abilities[:-1])}, or {abilities[-1]}."

    def _examples(self) -> str:
        pages = [normalize(h) for h in self.hints if h.strip()] or ["home"]
        topic = pages[1] if len(pages) > 1 else pages[0]
        return f"Try saying: take me to the {pages[0]} page, or: search for {topic}."
