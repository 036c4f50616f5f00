"""User-facing errors: each says what was wrong, the valid options and what to do next.

The CLI turns any :class:`XlbenchError` into a message and exit status 2, before any
expensive work has started.
"""

from __future__ import annotations


class XlbenchError(Exception):
    """A problem with the user's input (suite, names, data). Exit status 2."""


class UnknownNameError(XlbenchError):
    """A task, method, backbone or executor name that no registry knows."""


class SuiteError(XlbenchError):
    """A suite file that does not validate."""


class DataError(XlbenchError):
    """A data file that is missing or malformed: names the file and the record."""
