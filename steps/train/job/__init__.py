"""The training image's entry point: stdlib only, Python 3.8; copied into the image as a folder.

`entry` (main: the job from its config to its outputs), `command` (what runs, with which environment),
`secrets_manager` + `sigv4` (the preset's secrets, read at start), `supervise` (the running command and
the signals forwarded to it), `outputs` (failure records, what is kept). The modules import each other
relatively: the folder runs as `python3 <folder>` in the image (see `__main__`) and as `steps.train.job`
here.
"""

__all__ = ["command", "entry", "outputs", "secrets_manager", "sigv4", "supervise"]
