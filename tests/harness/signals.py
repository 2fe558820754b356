"""Child processes that hear Ctrl-C the way a user's terminal delivers it.

A command started in the background of a non-interactive shell inherits SIGINT as *ignored*, and Python
then installs no KeyboardInterrupt handler: a Ctrl-C test run from such a shell (a CI wrapper, `cmd &`)
would see the interrupt vanish. Tests that send SIGINT start their child with the default disposition.
"""

from __future__ import annotations

import signal


def default_sigint() -> None:
    """`preexec_fn` for Popen: the child starts with SIGINT at its default, as in a terminal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
