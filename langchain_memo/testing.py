"""A fake chat model for tests and offline examples: scripted replies, records every prompt it saw.

LangChain's fake chat models do not implement `bind_tools`; this one returns itself, so it also works in
`create_agent(model, tools=[...])` (script `AIMessage(tool_calls=[...])` replies to call tools).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatResult
from pydantic import Field

__all__ = ["RecordingChatModel", "scripted"]


class RecordingChatModel(GenericFakeChatModel):
    """`GenericFakeChatModel` that keeps `seen` (the messages of every call) and accepts `bind_tools`."""

    seen: list[list[BaseMessage]] = Field(default_factory=list)

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> RecordingChatModel:
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.seen.append(list(messages))
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)

    @property
    def last_system_prompt(self) -> str:
        """The system prompt of the latest call ("" when it had none)."""
        first = self.seen[-1][0] if self.seen and self.seen[-1] else None
        return str(first.text) if first is not None and first.type == "system" else ""


def scripted(*replies: AIMessage | str, repeat_last: bool = True) -> Iterator[AIMessage | str]:
    """Replies in order; the last one repeats forever (so a model can serve any number of calls).
    Each reply is a fresh copy: LangChain stamps ids on the messages it returns."""
    items: Iterable[AIMessage | str] = replies
    for reply in items:
        yield reply.model_copy(deep=True) if isinstance(reply, AIMessage) else reply
    while repeat_last and replies:
        last = replies[-1]
        yield last.model_copy(deep=True) if isinstance(last, AIMessage) else last
