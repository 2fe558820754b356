"""The one error type a user can fix by changing their input."""


class BadInput(ValueError):
    """Input the user can fix; commands print the message as one line and exit 2 with nothing created."""
