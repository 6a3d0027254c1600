from drkit.cli.main import run

run()
