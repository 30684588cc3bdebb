"""Sub-commands of ``innerloop-cli``, one module each (see engine/cli.py)."""
