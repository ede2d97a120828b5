"""Errors raised by kotaemon. Each has a stable ``code``, the HTTP ``status`` it is served with,
and a message that says what to do next.

Hierarchy (status in brackets)::

    KotaemonError [500]
    ├── ConfigurationError [500]        a setting is missing or wrong
    ├── NotFoundError [404]             unknown collection, document, job… (or not visible to
    │                                   the caller: the two look the same)
    ├── AuthenticationError [401]       no credentials, or credentials that do not hold
    ├── PermissionDeniedError [403]     the principal lacks the right
    │   └── RateLimitedError [429]      too many requests for now
    ├── ConflictError [409]             the request contradicts stored state
    ├── InvalidInputError [422]         a request argument is malformed
    ├── EmbeddingModelMismatchError [409]  a collection's vectors come from another model
    ├── IngestError [422]               one file could not be ingested
    │   ├── UnsupportedFileError [415]
    │   ├── CorruptFileError [422]
    │   └── FileTooLargeError [413]
    ├── UnavailableError [503]          a backing service is down or not ready: retry shortly
    │   └── StoreError [503]            the database failed or is unreachable
    │       └── StoreTimeoutError [503] the database did not answer in time
    ├── EmbeddingError [502]            the embedding backend failed
    └── LLMError [502]                  the LLM backend failed
        ├── LLMTimeoutError [504]       it did not answer in time
        └── LLMRateLimitedError [429]   it is rate-limiting us

An instance may carry a more specific ``code`` (``collection_not_found`` is a
``NotFoundError``); its status is always its class's.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType


class KotaemonError(Exception):
    """Base of every kotaemon error; ``code`` is stable and safe to show to API clients."""

    code = "internal_error"
    status = 500
    #: Headers that go out with the HTTP response (``Retry-After``, ``WWW-Authenticate``).
    headers: Mapping[str, str] | None = None

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class ConfigurationError(KotaemonError):
    code = "configuration_error"


class NotFoundError(KotaemonError):
    code = "not_found"
    status = 404


class AuthenticationError(KotaemonError):
    """The caller is not known; ``headers`` go out with the 401 (``WWW-Authenticate``)."""

    code = "unauthenticated"
    status = 401

    def __init__(self, message: str, *, code: str | None = None, error: str = "invalid_token"):
        super().__init__(message, code=code)
        self.headers = {"WWW-Authenticate": f'Bearer error="{error}"'}


class PermissionDeniedError(KotaemonError):
    code = "permission_denied"
    status = 403


class RateLimitedError(PermissionDeniedError):
    code = "rate_limited"
    status = 429

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(max(1, round(retry_after + 0.5)))}


class ConflictError(KotaemonError):
    code = "conflict"
    status = 409


class InvalidInputError(KotaemonError):
    code = "invalid_input"
    status = 422


class EmbeddingModelMismatchError(KotaemonError):
    code = "embedding_model_mismatch"
    status = 409


class IngestError(KotaemonError):
    code = "ingest_failed"
    status = 422


class UnsupportedFileError(IngestError):
    code = "unsupported_file"
    status = 415


class CorruptFileError(IngestError):
    code = "corrupt_file"


class FileTooLargeError(IngestError):
    code = "file_too_large"
    status = 413


class UnavailableError(KotaemonError):
    """A backing service is down or not ready yet; the client should retry shortly."""

    code = "unavailable"
    status = 503
    headers: Mapping[str, str] | None = MappingProxyType({"Retry-After": "1"})


class StoreError(UnavailableError):
    code = "store_unavailable"


class StoreTimeoutError(StoreError):
    code = "store_timeout"


class EmbeddingError(KotaemonError):
    code = "embedding_failed"
    status = 502


class LLMError(KotaemonError):
    code = "llm_failed"
    status = 502


class LLMTimeoutError(LLMError):
    code = "llm_timeout"
    status = 504


class LLMRateLimitedError(LLMError):
    code = "llm_rate_limited"
    status = 429
