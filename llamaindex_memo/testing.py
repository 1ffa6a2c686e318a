"""Fakes for tests and offline examples: an LLM that records every prompt it is given."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseGen,
)
from llama_index.core.bridge.pydantic import Field
from llama_index.core.llms import MockLLM


class RecordingLLM(MockLLM):
    """`MockLLM` that answers `reply` and keeps what it was sent: `chats` (message lists) and `prompts`."""

    reply: str = "Noted."
    chats: list[list[ChatMessage]] = Field(default_factory=list, exclude=True)
    prompts: list[str] = Field(default_factory=list, exclude=True)

    def __init__(self, reply: str = "Noted.", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.reply = reply

    @classmethod
    def class_name(cls) -> str:
        return "RecordingLLM"

    def seen(self) -> str:
        """Everything sent so far, as one string (for assertions)."""
        return "\n".join([*(m.content or "" for c in self.chats for m in c), *self.prompts])

    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        self.chats.append(list(messages))
        out: ChatResponse = super().chat(messages, **kwargs)
        return out

    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        self.chats.append(list(messages))
        gen: ChatResponseGen = super().stream_chat(messages, **kwargs)
        return gen

    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        self.prompts.append(prompt)
        return CompletionResponse(text=self.reply)

    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        self.prompts.append(prompt)
        words = self.reply.split(" ")

        def gen() -> CompletionResponseGen:
            for i, w in enumerate(words):
                yield CompletionResponse(text=" ".join(words[: i + 1]), delta=w if i == 0 else " " + w)

        return gen()
