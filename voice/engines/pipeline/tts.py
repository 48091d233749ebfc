"""Sentence-by-sentence speech for the pipeline engine.

The first complete sentence goes to the speech endpoint at once, so the first audio never waits
for the whole reply. Each later sentence is requested once the audio of the one before it starts
to arrive: long before it is needed, yet without its request competing with those first frames
for the event loop. Audio is delivered strictly in sentence order, as it arrives.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

from openai import AsyncOpenAI

SENTENCE_END = re.compile(r"(?<=[.!?…。！？])[\"')\]]*\s+")
MIN_SENTENCE_CHARS = 12  # "Dr. Smith" and "Hi." do not make a sentence on their own
MAX_INPUT_CHARS = 4096  # the speech endpoint's limit
MAX_CHUNK_BYTES = 4800  # 100 ms of PCM16 at 24 kHz: a large network read is relayed in pieces
PREFETCH = 2  # sentences synthesized ahead of the one being delivered
# After the sentence before it starts to arrive, so that sentence's first frames are on their
# way to the client before this request is built; its audio is still far from needed.
NEXT_REQUEST_DELAY = 0.02


_Sentence = tuple["asyncio.Queue[bytes | None]", "asyncio.Task[None]"]


class SentenceSplitter:
    """Accumulates streamed text and hands out complete sentences."""

    def __init__(self) -> None:
        self._buffer = ""

    def feed(self, text: str) -> list[str]:
        self._buffer += text
        sentences = []
        start = 0
        for match in SENTENCE_END.finditer(self._buffer):
            if match.end() - start >= MIN_SENTENCE_CHARS:
                sentences.append(self._buffer[start : match.end()].strip())
                start = match.end()
        self._buffer = self._buffer[start:]
        return sentences

    def flush(self) -> list[str]:
        rest, self._buffer = self._buffer.strip(), ""
        return [rest] if rest else []


class SpeechQueue:
    """Sentences in, PCM16 24 kHz chunks out, in order."""

    def __init__(self, client: AsyncOpenAI, model: str, voice: str, speed: float) -> None:
        self.client = client
        self.model = model
        self.voice = voice
        self.speed = speed
        self._pending: asyncio.Queue[_Sentence | None] = asyncio.Queue()
        self._slots = asyncio.Semaphore(PREFETCH)
        self._tasks: list[asyncio.Task[None]] = []
        self._last_arriving: asyncio.Event | None = None  # the latest sentence's audio began
        self.characters = 0

    def say(self, sentence: str) -> None:
        """Start synthesizing a sentence now; its audio follows the earlier sentences'."""
        chunks: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.characters += len(sentence)
        name = f"tts-{len(self._tasks)}"
        after, self._last_arriving = self._last_arriving, asyncio.Event()
        work = self._synthesize(sentence, chunks, after, self._last_arriving)
        task = asyncio.create_task(work, name=name)
        self._tasks.append(task)
        self._pending.put_nowait((chunks, task))

    def end(self) -> None:
        self._pending.put_nowait(None)

    async def audio(self) -> AsyncIterator[bytes]:
        """Every sentence's audio in order, until ``end()``."""
        while (pending := await self._pending.get()) is not None:
            chunks, task = pending
            while (chunk := await chunks.get()) is not None:
                yield chunk
            await task  # re-raises the sentence's failure

    def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()

    async def _synthesize(
        self,
        sentence: str,
        chunks: asyncio.Queue[bytes | None],
        after: asyncio.Event | None,
        arriving: asyncio.Event,
    ) -> None:
        try:
            if after is not None:
                await after.wait()
                await asyncio.sleep(NEXT_REQUEST_DELAY)
            async with self._slots:
                async with self.client.audio.speech.with_streaming_response.create(
                    model=self.model,
                    voice=self.voice,
                    input=sentence[:MAX_INPUT_CHARS],
                    response_format="pcm",
                    speed=self.speed,
                ) as response:
                    carry = b""
                    async for data in response.iter_bytes():
                        arriving.set()
                        data = carry + data
                        # Keep whole samples: a network read may split one.
                        cut = len(data) - len(data) % 2
                        carry = data[cut:]
                        for start in range(0, cut, MAX_CHUNK_BYTES):
                            chunks.put_nowait(data[start : min(cut, start + MAX_CHUNK_BYTES)])
        finally:
            arriving.set()
            chunks.put_nowait(None)
