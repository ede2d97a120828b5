import pytest

from kotaemon.core.language import detect_language


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
