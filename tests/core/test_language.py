import pytest

from kotaemon.core.language import detect_language, language_pair


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("我上个月的信用卡还款有没有逾期？", "zh"),
        ("我的HSBC卡丢了", "zh"),
        ("What is the late fee?", "en"),
        ("What does 宽限期 mean in the card agreement?", "en"),
        ("", "en"),
    ],
)
def test_detect_language(text: str, language: str) -> None:
    assert detect_language(text) == language


@pytest.mark.parametrize(
    ("question", "passages", "pair"),
    [
        ("What is the grace period?", ["The grace period is three days."], "en-en"),
        ("宽限期是几天？", ["宽限期为3个自然日。"], "zh-zh"),
        ("宽限期是几天？", ["The grace period is three days."], "zh-en"),
        ("PID 文件里应该写什么？", ["The PID file holds the process id."], "zh-en"),
        ("How long is the grace period?", ["宽限期为3个自然日。"], "en-zh"),
        ("grace period 是几天？", ["宽限期为3个自然日。"], "mixed"),
        ("grace period 是几天？", ["The grace period is three days."], "mixed"),
        ("宽限期是几天？", [], "zh-zh"),
    ],
)
def test_language_pair(question: str, passages: list[str], pair: str) -> None:
    assert language_pair(question, passages) == pair
