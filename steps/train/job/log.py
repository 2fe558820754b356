"""The entry point's own log lines, marked so they stand out in the job log."""

LOG_PREFIX = "cvl-entry:"


def log(message: str) -> None:
    """Print one line of the entry point's own output."""
    print(f"{LOG_PREFIX} {message}", flush=True)
