"""The HTTP service: FastAPI on uvicorn, over the same :class:`~kotaemon.engine.Engine` as the CLI.

Start it with ``kotaemon serve``, or build the app yourself with :func:`create_app`.
"""

from kotaemon.server.app import create_app

__all__ = ["create_app"]
