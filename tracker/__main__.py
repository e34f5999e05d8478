"""`python -m tracker COMMAND`: the same as the `tracker` script (used to start job runners
with the interpreter that runs the web app)."""

from tracker.cli import main

main()
