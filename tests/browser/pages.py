"""What the browser tests do on the voice page: a fake microphone, sign in, talk, wait."""

from __future__ import annotations

import json
import wave
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jwt
import numpy as np
from django.contrib.auth.models import User
from rest_framework_simplejwt.tokens import AccessToken

from devtools.servers import ROOT, DaphneServer

if TYPE_CHECKING:
    from playwright.sync_api import Page

ARTIFACTS = ROOT / "artifacts"
TIMEOUT_MS = 15_000
MIC_RATE = 48_000

Launch = Callable[..., "Page"]


def speech_like_wav(
    path: Path, *, lead_s: float = 0.3, voiced_s: float = 1.0, silence_s: float = 2.5
) -> Path:
    """A looping fake microphone: silence, a voice-like sound, silence.

    A pure tone would be flattened by the browser's noise suppression, so the sound is a
    140 Hz harmonic series under a 4 Hz syllable envelope, loud enough for the page's VAD.
    """
    t = np.arange(int(voiced_s * MIC_RATE)) / MIC_RATE
    harmonics = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 8))
    voiced = 0.25 * harmonics * 0.5 * (1 - np.cos(2 * np.pi * 4 * t))
    signal = np.concatenate(
        [np.zeros(int(lead_s * MIC_RATE)), voiced, np.zeros(int(silence_s * MIC_RATE))]
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(MIC_RATE)
        out.writeframes((np.clip(signal, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def wait_until(page: Page, condition: str, timeout_ms: int = TIMEOUT_MS) -> Any:
    """Wait for a JavaScript condition over ``state`` (the page's ``window.voiceTest.state``)."""
    # A function, not a string: the page's CSP forbids the eval a string predicate needs.
    return page.wait_for_function(
        f"() => {{ const state = window.voiceTest.state; return {condition}; }}",
        timeout=timeout_ms,
    )


def voice_state(page: Page) -> dict[str, Any]:
    state: dict[str, Any] = page.evaluate(
        "() => JSON.parse(JSON.stringify(window.voiceTest.state))"
    )
    return state


def sign_in(page: Page, server: DaphneServer, password: str = "alice-password-1") -> None:
    page.goto(f"{server.http_url}/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.locator("#talk-panel").wait_for(state="visible")


def start(page: Page, transport: str = "voice-ws", mode: str = "push-to-talk") -> None:
    """Choose the transport and turn taking, press Start and wait for the session."""
    page.check(f"input[name=transport][value={transport}]")
    page.check(f"input[name=mode][value={mode}]")
    page.get_by_role("button", name="Start conversation").click()
    wait_until(page, "state.connection === 'ready'")


def push_to_talk(page: Page, frames: int = 25) -> None:
    """Hold Space on the talk button while ``frames`` microphone frames go out."""
    sent = voice_state(page)["framesSent"]
    page.locator("#ptt").focus()
    page.keyboard.down("Space")
    wait_until(page, f"state.framesSent >= {sent + frames}")
    page.keyboard.up("Space")


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"voice-page-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def forged_access_token(user: User) -> str:
    """An access token that looks current but is signed with another key."""
    return jwt.encode(
        dict(AccessToken.for_user(user).payload), "not-the-server-key-" * 3, algorithm="HS256"
    )


def stored_tokens(page: Page) -> dict[str, str] | None:
    raw = page.evaluate("() => sessionStorage.getItem('voice.auth')")
    tokens: dict[str, str] | None = json.loads(raw) if raw else None
    return tokens


def replace_access_token(page: Page, token: str) -> None:
    page.evaluate(
        """(token) => {
            const tokens = JSON.parse(sessionStorage.getItem('voice.auth'));
            sessionStorage.setItem('voice.auth', JSON.stringify({...tokens, access: token}));
        }""",
        token,
    )
