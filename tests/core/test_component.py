import pytest

from kotaemon import BaseComponent


class Upper(BaseComponent):
    def __init__(self, suffix: str) -> None:  # deliberately no super().__init__()
        self.suffix = suffix

    def run(self, text: str) -> str:
        return text.upper() + self.suffix


class AsyncUpper(BaseComponent):
    async def arun(self, text: str) -> str:
        return text.upper()


def test_sync_component_has_async_and_stream_entry_points() -> None:
    component = Upper("!")
    assert component.run("hi") == "HI!"
    assert component("hi") == "HI!"
    assert list(component.stream("hi")) == ["HI!"]


@pytest.mark.anyio
async def test_sync_component_runs_async() -> None:
    assert await Upper("?").arun("hi") == "HI?"


def test_async_component_runs_sync() -> None:
    assert AsyncUpper().run("hi") == "HI"
    assert list(AsyncUpper().stream("hi")) == ["HI"]


def test_component_without_run_says_what_to_implement() -> None:
    with pytest.raises(NotImplementedError, match="run\\(\\) or arun\\(\\)"):
        BaseComponent().run()


@pytest.mark.anyio
async def test_sync_entry_point_refuses_inside_event_loop() -> None:
    with pytest.raises(RuntimeError, match="await the async variant"):
        AsyncUpper().run("hi")
