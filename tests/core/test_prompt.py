import pytest

from kotaemon import PromptTemplate
from kotaemon.core.errors import InvalidInputError


def test_fills_named_fields_and_keeps_braces_in_values() -> None:
    prompt = PromptTemplate(template="基于以下信息回答问题：\n{context}\n\n问题：{question}")
    assert prompt.fields == ("context", "question")
    text = prompt.format(context="a {b} c", question="q?")
    assert text == "基于以下信息回答问题：\na {b} c\n\n问题：q?"


def test_literal_braces() -> None:
    assert PromptTemplate("{{x}} {y}").format(y=1) == "{x} 1"


def test_missing_value_is_named() -> None:
    with pytest.raises(InvalidInputError, match="question"):
        PromptTemplate("{context} {question}").format(context="c")


@pytest.mark.parametrize("template", ["{a.b}", "{0}", "{a[0]}"])
def test_only_plain_names(template: str) -> None:
    with pytest.raises(InvalidInputError, match="plain name"):
        PromptTemplate(template)
