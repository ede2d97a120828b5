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
    ("question", "found", "pair"),
    [
        ("What is the grace period?", "en", "en-en"),
        ("宽限期是几天？", "zh", "zh-zh"),
        ("宽限期是几天？", "en", "zh-en"),
        ("PID 文件里应该写什么？", "en", "zh-en"),
        ("How long is the grace period?", "zh", "en-zh"),
        ("grace period 是几天？", "zh", "mixed"),
        ("grace period 是几天？", "en", "mixed"),
        ("宽限期是几天？", None, "zh-zh"),
    ],
)
def test_language_pair(question: str, found: str | None, pair: str) -> None:
    assert language_pair(question, found) == pair  # type: ignore[arg-type]
