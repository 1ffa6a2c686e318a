# Brought from LlamaIndex's own tests: llama-index-core/tests/chat_engine/test_simple.py
# (run-llama/llama_index, commit 136ead39d9ea328847392ff70c799dba19650c7b; run here against the installed llama-index-core 0.14.25)
# and run twice, with the built-in class and with MeMo's in its place (see conftest.py).
# Not brought: the two tests of StreamingAgentChatResponse with a stub memory (no memory class).
# Changes: the class under test comes from the `impl` fixture; other edits are marked "# MeMo:".
#
# The MIT License
#
# Copyright (c) Jerry Liu
#
# Permission is hereby granted, free of charge, to any person obtaining a copy
# of this software and associated documentation files (the "Software"), to deal
# in the Software without restriction, including without limitation the rights
# to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
# copies of the Software, and to permit persons to whom the Software is
# furnished to do so, subject to the following conditions:
#
# The above copyright notice and this permission notice shall be included in
# all copies or substantial portions of the Software.
#
# THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
# IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
# FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
# AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
# LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
# OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN
# THE SOFTWARE.

"""Upstream `SimpleChatEngine` tests; the memory (`Memory` / `ChatMemoryBuffer`) is MeMo's in the memo run."""

import asyncio
import gc
from typing import Any

import pytest
from llama_index.core.base.llms.types import (
    ChatMessage,
    CompletionResponse,
    CompletionResponseGen,
    MessageRole,
)
from llama_index.core.chat_engine.simple import SimpleChatEngine
from llama_index.core.llms.callbacks import llm_completion_callback
from llama_index.core.llms.mock import MockLLM


def test_simple_chat_engine(impl) -> None:
    engine = SimpleChatEngine.from_defaults(memory=impl.engine_memory())  # MeMo: the memory from `impl`

    engine.reset()
    response = engine.chat("Test message 1")
    assert str(response) == "user: Test message 1\nassistant: "

    response = engine.chat("Test message 2")
    assert (
        str(response) == "user: Test message 1\nassistant: user: Test message 1\nassistant: \n"
        "user: Test message 2\nassistant: "
    )

    engine.reset()
    response = engine.chat("Test message 3")
    assert str(response) == "user: Test message 3\nassistant: "


def test_simple_chat_engine_with_init_history(impl) -> None:
    engine = SimpleChatEngine.from_defaults(
        memory=impl.engine_memory(  # MeMo: the memory from `impl`, with the same history
            chat_history=[
                ChatMessage(role=MessageRole.USER, content="test human message"),
                ChatMessage(role=MessageRole.ASSISTANT, content="test ai message"),
            ]
        ),
    )

    response = engine.chat("new human message")
    assert (
        str(response) == "user: test human message\nassistant: test ai message\n"
        "user: new human message\nassistant: "
    )


@pytest.mark.asyncio
async def test_simple_chat_engine_astream(impl):
    engine = SimpleChatEngine.from_defaults(memory=impl.engine_memory())  # MeMo: the memory from `impl`
    response = await engine.astream_chat("Hello World!")

    num_iters = 0
    async for response_part in response.async_response_gen():  # noqa: B007
        num_iters += 1

    assert num_iters > 10

    assert "Hello World!" in response.unformatted_response
    assert len(engine.chat_history) == 2

    response = await engine.astream_chat("What is the capital of the moon?")

    num_iters = 0
    async for _ in response.async_response_gen():
        num_iters += 1

    assert num_iters > 10
    assert "Hello World!" in response.unformatted_response
    assert "What is the capital of the moon?" in response.unformatted_response


@pytest.mark.asyncio
async def test_simple_chat_engine_astream_response_text_without_draining(impl):
    engine = SimpleChatEngine.from_defaults(memory=impl.engine_memory())  # MeMo: the memory from `impl`
    response = await engine.astream_chat("Hello World!")
    await response.awrite_response_to_history_task

    assert response.response != ""
    assert str(response) == response.response
    assert "Hello World!" in str(response)


def test_simple_chat_engine_astream_exception_handling(impl):
    """
    Test that an exception thrown while retrieving the streamed LLM response gets bubbled up to the user.
    Also tests that the non-retrieved exception does not remain in an task that was not awaited leading to
    a 'Task exception was never retrieved' message during garbage collection.
    """

    class ExceptionThrownInTest(Exception):
        pass

    class ExceptionMockLLM(MockLLM):
        """Raises an exception while streaming back the mocked LLM response."""

        @classmethod
        def class_name(cls) -> str:
            return "ExceptionMockLLM"

        @llm_completion_callback()
        def stream_complete(
            self, prompt: str, formatted: bool = False, **kwargs: Any
        ) -> CompletionResponseGen:
            def gen_prompt() -> CompletionResponseGen:
                for ch in prompt:
                    yield CompletionResponse(
                        text=prompt,
                        delta=ch,
                    )
                raise ExceptionThrownInTest("Exception thrown for testing purposes")

            return gen_prompt()

    async def async_part():
        engine = SimpleChatEngine.from_defaults(llm=ExceptionMockLLM(), memory=impl.buffer())  # MeMo: `impl`
        response = await engine.astream_chat("Hello World!")

        with pytest.raises(ExceptionThrownInTest):
            async for response_part in response.async_response_gen():  # noqa: B007
                pass

    not_retrieved_exception = False

    def custom_exception_handler(loop, context):
        if context.get("message") == "Task exception was never retrieved":
            nonlocal not_retrieved_exception
            not_retrieved_exception = True

    loop = asyncio.new_event_loop()
    loop.set_exception_handler(custom_exception_handler)
    loop.run_until_complete(async_part())
    loop.close()
    gc.collect()
    if not_retrieved_exception:
        pytest.fail(
            "Exception was not correctly handled - ended up in asyncio cleanup performed during garbage collection"
        )
