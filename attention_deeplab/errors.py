"""The project's errors: each carries a one-line reason that names the file or option at fault.

Scripts catch `ProjectError` and print `<script>.py: error: <reason>`, so a
user never sees a traceback for a problem they can fix.
"""
import os


class ProjectError(Exception):
    """Base of every error a script reports as one line."""


class PrepareError(ProjectError):
    """A dataset folder or a file in it cannot be prepared; the message says why."""


class DataError(ProjectError, ValueError):
    """Prepared arrays that are missing or do not fit together."""


class TrainingError(ProjectError, RuntimeError):
    """A run that cannot start or go on, with a one-line reason."""


class ComparisonError(ProjectError, ValueError):
    """Runs that cannot be compared, or an evaluation that cannot be read back."""


class WeightsFileError(ProjectError, ValueError):
    """A weights file that cannot be read: damaged, truncated or of another type.

    Args:
        path: str or PathLike. The file.
        reason: str or Exception. What the reader said (its first line is kept).
    """

    def __init__(self, path, reason):
        reason = str(reason).splitlines()[0] if str(reason) else type(reason).__name__
        super().__init__(f"weights file {os.fspath(path)!r} cannot be read ({reason}): it "
                         "is damaged (an interrupted copy or download?) or not a weights "
                         "file; copy it again, or train it again")
