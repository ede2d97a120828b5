from kotaemon.core.tokenize import tokenize


def test_chinese_is_segmented_into_words() -> None:
    tokens = tokenize("我上个月的信用卡还款有没有逾期？")
    assert {"信用卡", "还款", "逾期"} <= set(tokens)
    assert "的" not in tokens and "？" not in tokens


def test_english_is_lowercased_stemmed_without_stopwords() -> None:
    assert tokenize("The Repayments were OVERDUE") == ["repay", "overdu"]


def test_mixed_text_and_numbers() -> None:
    assert tokenize("宽限期3天grace period") == ["宽限期", "3", "天", "grace", "period"]
