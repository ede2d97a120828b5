"""Errors raised by kotaemon. Each has a stable ``code`` and a message that says what to do next.

Hierarchy::

    KotaemonError
    ├── ConfigurationError      a setting is missing or wrong
    ├── NotFoundError           unknown collection, document or chunk (or not visible to the caller)
    ├── AuthenticationError     no credentials, or credentials that do not hold (401)
    ├── PermissionDeniedError   the principal lacks the right
    │   └── RateLimitedError    too many requests for now (429)
    ├── ConflictError           the request contradicts stored state
    ├── InvalidInputError       a request argument is malformed
    ├── EmbeddingModelMismatchError  a collection's vectors come from another model
    ├── IngestError             one file could not be ingested
    │   ├── UnsupportedFileError
    │   ├── CorruptFileError
    │   └── FileTooLargeError
    ├── StoreError              the database failed or is unreachable
    ├── EmbeddingError          the embedding backend failed
    └── LLMError                the LLM backend failed
"""

from __future__ import annotations


class KotaemonError(Exception):
    """Base of every kotaemon error; ``code`` is stable and safe to show to API clients."""

    code = "internal_error"

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


class AuthenticationError(KotaemonError):
    """The caller is not known; ``headers`` go out with the 401 (``WWW-Authenticate``)."""

    code = "unauthenticated"

    def __init__(self, message: str, *, code: str | None = None, error: str = "invalid_token"):
        super().__init__(message, code=code)
        self.headers = {"WWW-Authenticate": f'Bearer error="{error}"'}


class PermissionDeniedError(KotaemonError):
    code = "permission_denied"


class RateLimitedError(PermissionDeniedError):
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(max(1, round(retry_after + 0.5)))}


class ConflictError(KotaemonError):
    code = "conflict"


class InvalidInputError(KotaemonError):
    code = "invalid_input"


class EmbeddingModelMismatchError(KotaemonError):
    code = "embedding_model_mismatch"


class IngestError(KotaemonError):
    code = "ingest_failed"


class UnsupportedFileError(IngestError):
    code = "unsupported_file"


class CorruptFileError(IngestError):
    code = "corrupt_file"


class FileTooLargeError(IngestError):
    code = "file_too_large"


class StoreError(KotaemonError):
    code = "store_unavailable"


class EmbeddingError(KotaemonError):
    code = "embedding_failed"


class LLMError(KotaemonError):
    code = "llm_failed"
