"""The seed article's example (section 实战编码), verbatim, runs against the real engine."""

from pathlib import Path

from kotaemon import (
    BaseComponent,
    LLMInterface,
    PromptTemplate,
    RAGPipeline,  # noqa: F401 - imported by the seed's example
    VectorDBRetriever,
)
from kotaemon.core.sync import run_sync
from kotaemon.engine import Engine
from kotaemon.llms.openai_compatible import OpenAICompatibleLLM

from .conftest import KNOWLEDGE_BASE, make_settings
from .fakes.openai_server import FakeOpenAIServer


class CustomAnswerGenerator(BaseComponent):
    def __init__(self, llm: LLMInterface, retriever: VectorDBRetriever):
        self.llm = llm
        self.retriever = retriever
        self.prompt = PromptTemplate(
            template="基于以下信息回答问题：\n{context}\n\n问题：{question}"
        )

    def run(self, question: str) -> str:
        # 步骤1：检索相关知识
        docs = self.retriever.retrieve(question)
        context = "\n".join([doc.text for doc in docs])

        # 步骤2：构造提示并生成答案
        final_prompt = self.prompt.format(context=context, question=question)
        response = self.llm.generate(final_prompt)
        return response.text


def test_seed_example_runs_verbatim(
    database_url: str, tmp_path: Path, fake_llm: FakeOpenAIServer
) -> None:
    engine = Engine(make_settings(database_url, tmp_path)).start()
    llm = OpenAICompatibleLLM(base_url=fake_llm.base_url, model="fake-model", max_retries=0)
    try:
        collection = run_sync(lambda: engine.ensure_collection("bank"))
        run_sync(lambda: engine.ingest.arun(KNOWLEDGE_BASE / "zh", collection))
        fake_llm.reply("宽限期为3天。")

        generator = CustomAnswerGenerator(llm=llm, retriever=engine.retriever)
        assert generator.run("信用卡还款的宽限期是几天？") == "宽限期为3天。"

        prompt = fake_llm.chat_requests[-1]["json"]["messages"][-1]["content"]
        assert prompt.startswith("基于以下信息回答问题：\n")
        assert "宽限期" in prompt and prompt.endswith("问题：信用卡还款的宽限期是几天？")
    finally:
        run_sync(llm.close)
        engine.stop()
