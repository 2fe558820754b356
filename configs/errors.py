"""The one error type a user can fix by changing their input."""


class BadInput(ValueError):
    """Input the user can fix; commands print the message as one line and exit 2 with nothing created."""


def first_problem(error: ValueError) -> str:
    """A pydantic `ValidationError` (or any ValueError) as one line: `<field>: <message>`."""
    errors = getattr(error, "errors", None)
    if not callable(errors):
        return str(error).splitlines()[0]
    first = errors()[0]
    field = ".".join(str(part) for part in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{field}: {message}" if field else message
