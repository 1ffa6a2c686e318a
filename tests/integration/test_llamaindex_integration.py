"""LlamaIndex adapters end to end: the examples run offline, and a Chroma server is shared by clients."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from llama_index.core.chat_engine import SimpleChatEngine
from llama_index.core.llms import ChatMessage, MessageRole

from llamaindex_memo import MemoMemory, MemoRetriever
from llamaindex_memo.testing import RecordingLLM
from shared_core import MemoConfig, Memory, Scope
from shared_core.embed import HashingEmbedder

pytestmark = [pytest.mark.integration, pytest.mark.enable_socket]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = [
    "llamaindex_chat_two_runs.py",
    "llamaindex_memory_block_agent.py",
    "llamaindex_retriever_pipeline.py",
]


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_runs_offline(name: str, tmp_path: Path) -> None:
    env = {**os.environ, "MEMO_EXAMPLE_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(ROOT / "examples" / name), "--path", str(tmp_path / "store")],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "OK:" in done.stdout


def test_two_clients_of_one_server_share_memory(
    chroma_server: tuple[str, int], alice: Scope, bob: Scope
) -> None:
    host, port = chroma_server
    cfg = MemoConfig(collection_prefix="li" + os.urandom(6).hex())
    writer = Memory.connect(host, port, embedder=HashingEmbedder(dim=256), config=cfg)
    engine = SimpleChatEngine.from_defaults(
        memory=MemoMemory(writer, alice, "s1"), llm=RecordingLLM(reply="Noted.")
    )
    engine.chat("I'm allergic to shellfish.")
    writer.close()

    reader = Memory.connect(host, port, embedder=HashingEmbedder(dim=256), config=cfg)
    llm = RecordingLLM(reply="Try the pasta.")
    SimpleChatEngine.from_defaults(memory=MemoMemory(reader, alice, "s2"), llm=llm).chat(
        "What should I order?"
    )
    sent = llm.chats[-1]
    assert sent[-1].role == MessageRole.USER and "shellfish" in (sent[-1].content or "")
    assert not any(m.role == MessageRole.SYSTEM for m in sent)
    assert not any(
        "shellfish" in n.node.get_content() for n in MemoRetriever(reader, bob).retrieve("shellfish")
    )
    reader.close()


def test_a_serialized_memory_reconnects_to_the_server(chroma_server: tuple[str, int], alice: Scope) -> None:
    """`to_dict` holds the server's address, not the client: restoring it reconnects to the same memory."""
    import json

    host, port = chroma_server
    cfg = MemoConfig(collection_prefix="li" + os.urandom(6).hex())
    mem = Memory.connect(host, port, embedder=HashingEmbedder(dim=256), config=cfg)
    memory = MemoMemory(mem, alice, "s1")
    memory.put_messages(
        [ChatMessage(role="user", content="hello"), ChatMessage(role="assistant", content="hi")]
    )
    data = json.loads(json.dumps(memory.to_dict()))
    assert data["store"]["host"] == host and data["store"]["port"] == port
    mem.close()
    script = (
        "import json, sys\nfrom llamaindex_memo import MemoMemory\n"
        "print(json.dumps([m.content for m in MemoMemory.from_dict(json.loads(sys.argv[1])).get_all()]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script, json.dumps(data)], capture_output=True, text=True,
                          env=env, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == ["hello", "hi"]
