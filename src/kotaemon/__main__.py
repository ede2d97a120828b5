from kotaemon.cli import app

app(prog_name="kotaemon")
