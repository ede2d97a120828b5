import json
import pickle

import pytest

from kotaemon import Secret, Settings


def test_secret_is_redacted_and_cannot_be_serialised() -> None:
    secret = Secret("sk-very-secret")
    assert "sk-very" not in repr(secret) and "sk-very" not in str(secret)
    assert "sk-very" not in f"{secret}"
    assert secret.reveal() == "sk-very-secret"
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_settings_keep_secrets_out_of_repr_and_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOTAEMON_LLM_API_KEY", "sk-from-env")
    monkeypatch.setenv("KOTAEMON_DATABASE_URL", "postgresql://u:hunter2@db/kotaemon")
    settings = Settings(_env_file=None)
    assert settings.llm_api_key is not None
    assert settings.llm_api_key.reveal() == "sk-from-env"
    assert "sk-from-env" not in repr(settings) and "hunter2" not in repr(settings)
    with pytest.raises(Exception, match="cannot be serialised"):
        settings.model_dump_json()
    dumped = settings.model_dump(exclude={"llm_api_key", "database_url"}, mode="json")
    assert "sk-from-env" not in json.dumps(dumped)


def test_secret_from_mounted_file(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("sk-from-file\n")
    monkeypatch.setenv("KOTAEMON_LLM_API_KEY_FILE", str(key_file))
    assert Settings(_env_file=None).llm_api_key.reveal() == "sk-from-file"


def test_settings_refuse_inconsistent_values() -> None:
    with pytest.raises(ValueError, match="chunk_overlap"):
        Settings(_env_file=None, chunk_size=64, chunk_overlap=64)
    with pytest.raises(ValueError, match="EMBEDDING_BASE_URL"):
        Settings(_env_file=None, embedding_backend="openai")
