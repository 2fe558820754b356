"""What every command shares: arguments, errors as one line and an exit code, output (tables, progress, JSON)."""

__all__ = ["aws_errors", "command", "count_bar", "run_printer"]
