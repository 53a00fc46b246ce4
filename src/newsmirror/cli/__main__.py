"""``python -m newsmirror.cli``: the command line, as the ``newsmirror`` command runs it."""

from newsmirror.cli import app

app()
