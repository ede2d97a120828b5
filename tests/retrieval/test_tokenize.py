from kotaemon.retrieval.bm25 import KeywordTerms, query_terms
from kotaemon.retrieval.tokenize import term_id, tokenize


def test_chinese_is_segmented_into_words() -> None:
    tokens = tokenize("我上个月的信用卡还款有没有逾期？")
    assert {"信用卡", "还款", "逾期"} <= set(tokens)
    assert "的" not in tokens and "？" not in tokens


def test_english_is_lowercased_stemmed_without_stopwords() -> None:
    assert tokenize("The Repayments were OVERDUE") == ["repay", "overdu"]


def test_mixed_text_and_numbers() -> None:
    assert tokenize("宽限期3天grace period") == ["宽限期", "3", "天", "grace", "period"]


def test_query_terms_are_sorted_and_distinct() -> None:
    terms = query_terms("fee fee late fee")
    assert terms == sorted({term_id("fee"), term_id("late")})


def weights(vector) -> dict[int, float]:
    return dict(zip(vector.indices(), vector.values(), strict=True))


def test_bm25_vector_saturates_frequency_and_normalises_length() -> None:
    short = KeywordTerms.of("fee")
    long = KeywordTerms.of("fee " + "other words here " * 5)
    w_short = weights(short.bm25_vector(avgdl=5))[term_id("fee")]
    w_long = weights(long.bm25_vector(avgdl=5))[term_id("fee")]
    assert w_short > w_long > 0
    repeated = weights(KeywordTerms.of("fee fee fee fee").bm25_vector(avgdl=4))[term_id("fee")]
    assert repeated < 2.2  # saturates below k1 + 1
