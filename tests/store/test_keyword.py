"""The PostgreSQL keyword encoding: term ids, BM25 sparse vectors."""

from kotaemon.store.keyword import KeywordTerms, query_terms, term_id


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
