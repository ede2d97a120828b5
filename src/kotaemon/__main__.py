"""``python -m kotaemon``: the command line.

Guarded, because a parser child process (anyio's ``to_process``) loads the parent's main module
again, as ``__mp_main__``: unguarded, it would run the command a second time and fail.
"""

from kotaemon.cli import app

if __name__ == "__main__":
    app(prog_name="kotaemon")
