"""How retrieval finds and fuses results: the one definition of each knob, its bounds and its
default (``Settings`` and the HTTP request models take theirs from here)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kotaemon.core.errors import InvalidInputError

Mode = Literal["hybrid", "dense", "keyword"]
MODES: tuple[Mode, ...] = ("hybrid", "dense", "keyword")
TopK = Annotated[int, Field(ge=1, le=100)]
RrfK = Annotated[int, Field(ge=1, le=1000)]
Weight = Annotated[float, Field(ge=0)]
Overfetch = Annotated[int, Field(ge=1, le=20)]


class RetrievalConfig(BaseModel):
    """Retrieval's knobs; the defaults were tuned on SciFact's train split (docs/benchmarks.md).

    Example::

        config = RetrievalConfig(top_k=10)
        config.with_changes(mode="keyword")     # validated like the constructor
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    top_k: TopK = 6
    mode: Mode = "hybrid"
    rrf_k: RrfK = 10
    dense_weight: Weight = 1.0
    keyword_weight: Weight = 1.0
    #: Hybrid search takes ``top_k × overfetch`` candidates from each side before fusing.
    overfetch: Overfetch = 4
    #: In collections of several languages, rank each language apart in dense search (a
    #: multilingual model scores passages in the question's language higher than an answer in
    #: another); off: one ranking over every language.
    split_languages: bool = True

    def with_changes(self, **changes: Any) -> RetrievalConfig:
        """A copy with ``changes`` (None values ignored), validated.

        :raises InvalidInputError: naming the bad value and its bounds.
        """
        given = {k: v for k, v in changes.items() if v is not None}
        if not given:
            return self
        try:
            return RetrievalConfig.model_validate({**self.model_dump(), **given})
        except ValidationError as exc:
            problem = exc.errors()[0]
            field = ".".join(str(part) for part in problem["loc"])
            raise InvalidInputError(
                f"{field}: {problem['msg']} (got {problem.get('input')!r})"
            ) from None


DEFAULTS = RetrievalConfig()
