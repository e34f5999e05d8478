"""`tracker COMMAND` (the console script) and `python -m tracker COMMAND` (used to start job
runners with the interpreter that runs the web app): the commands of tracker.cli on the app
create_app makes. The commands themselves know nothing of the app factory."""

from flask.cli import FlaskGroup

from tracker import create_app


def main() -> None:
    group = FlaskGroup(
        create_app=create_app,
        add_default_commands=True,
        help="建议提案办理系统 (the tracker): operations commands.",
    )
    group.main(prog_name="tracker")


if __name__ == "__main__":
    main()
