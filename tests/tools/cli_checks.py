"""What the command-line tool tests check: the exit status, and one Error: line on stderr."""


def exit_status(main, argv):
    """``main(argv)``'s status, also when argparse exits."""
    try:
        return main(argv)
    except SystemExit as exit_status:
        return exit_status.code


def one_error_line(capsys):
    """The single ``Error:`` line on stderr (asserted to be the only line)."""
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith("Error: "), errors
    return errors[0]
