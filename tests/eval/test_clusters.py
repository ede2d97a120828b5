"""Average-linkage clustering of uncovered questions and the labels of their topics."""

from __future__ import annotations

import numpy as np

from kotaemon.eval.clusters import agglomerate, cluster_questions, label_terms


def test_agglomerate_by_average_cosine() -> None:
    vectors = np.array([[1, 0, 0], [0.96, 0.28, 0], [0, 1, 0], [0, 0.99, 0.141], [0, 0, 1]])
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    # cos(0, 1) = 0.96, cos(2, 3) = 0.99; everything else is at most 0.28
    assert agglomerate(vectors, 0.9) == [[0, 1], [2, 3], [4]]
    assert agglomerate(vectors, 0.995) == [[0], [1], [2], [3], [4]]
    assert agglomerate(vectors, -1.0) == [[0, 1, 2, 3, 4]]
    assert agglomerate(np.zeros((0, 3)), 0.5) == []


def test_average_linkage_not_single_linkage() -> None:
    # a chain: a~b 0.9, b~c 0.9 but a~c 0.62; the average of {a, b} to c is 0.76 < 0.8
    a = np.array([1.0, 0.0])
    b = np.array([np.cos(0.451), np.sin(0.451)])
    c = np.array([np.cos(0.902), np.sin(0.902)])
    groups = agglomerate(np.vstack([a, b, c]), 0.8)
    assert sorted(map(len, groups)) == [1, 2]


def test_labels_are_the_distinctive_terms() -> None:
    texts = ["mortgage interest rate", "mortgage rate today", "lost card abroad"]
    assert label_terms(texts, [0, 1], top=2) == ["mortgag", "rate"]


def test_clusters_carry_their_questions() -> None:
    vectors = np.array([[1.0, 0.0], [0.99, 0.01], [0.0, 1.0]])
    [first, second] = cluster_questions(
        ["q1", "q2", "q3"], ["mortgage rate", "mortgage rates", "ATM abroad"], vectors
    )
    assert first.size == 2 and first.question_ids == ["q1", "q2"] and "mortgag" in first.label
    assert second.questions == ["ATM abroad"]
