"""The project's errors: each carries a one-line reason that names the file or option at fault.

Scripts catch `ProjectError` and print `<script>.py: error: <reason>`, so a
user never sees a traceback for a problem they can fix.
"""


class ProjectError(Exception):
    """Base of every error a script reports as one line."""


class PrepareError(ProjectError):
    """A dataset folder or a file in it cannot be prepared; the message says why."""


class DataError(ProjectError, ValueError):
    """Prepared arrays that are missing or do not fit together."""


class TrainingError(ProjectError, RuntimeError):
    """A run that cannot start or go on, with a one-line reason."""
