"""The synchronous entry points of the LLM backend (run on the shared portal loop)."""

from kotaemon.core.sync import run_sync
from kotaemon.llms.openai_compatible import OpenAICompatibleLLM

from ..fakes.openai_server import FakeOpenAIServer


def test_sync_generate_and_stream(fake_llm: FakeOpenAIServer) -> None:
    llm = OpenAICompatibleLLM(base_url=fake_llm.base_url, model="fake-model")
    try:
        fake_llm.reply("sync ok")
        assert llm.generate("hi").text == "sync ok"
        fake_llm.reply("a b c")
        assert "".join(c.text for c in llm.stream("hi")) == "a b c"
    finally:
        run_sync(llm.close)
