"""A string type for secrets: redacted when printed, refused when serialised."""

from __future__ import annotations

from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema


class Secret:
    """Holds an API key, password or URL with credentials.

    ``repr``/``str`` print ``'**********'``; pickling and JSON serialisation raise, so a secret can
    only leave the process through :meth:`reveal`, on purpose::

        key = Secret("sk-...")
        client = OpenAI(api_key=key.reveal())
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"Secret takes a str, not {type(value).__name__}")
        self._value = value

    def reveal(self) -> str:
        """The secret value. Call it only where the value is handed to a client library."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("Secrets cannot be pickled; pass the setting, not its value")

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def refuse(_: Secret) -> str:
            raise TypeError("Secrets cannot be serialised; they come only from the environment")

        def validate(value: object) -> Secret:
            if isinstance(value, Secret):
                return value
            if not isinstance(value, str):
                raise ValueError("a secret must be a string")
            return cls(value)

        from_str = core_schema.no_info_plain_validator_function(validate)
        return core_schema.json_or_python_schema(
            json_schema=from_str,
            python_schema=from_str,
            serialization=core_schema.plain_serializer_function_ser_schema(refuse),
        )
