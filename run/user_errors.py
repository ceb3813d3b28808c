"""Errors in what the user asked for: config, data, backbone, checkpoints, an unstable run.

Each says what is wrong and how to fix it. train.py prints them as one ``Error: ...`` message and
exits with status 2; every other exception keeps its traceback, since it is a bug to report.
Concrete errors also subclass the built-in exception callers would expect (``ValueError``,
``FileNotFoundError``, ...), so ``except ValueError`` code keeps working.
"""


class UserError(Exception):
    """An expected error caused by the run's inputs; its message is the whole report."""


class ConfigError(UserError, ValueError):
    """A config file, command-line option or config value that cannot be used."""


class ModelOptionError(ConfigError):
    """A model option (token counts, layers, modes) that the loaded CLIP cannot take; model pieces
    raise it with the option's value, so only these errors reach the user as config mistakes.
    ``option``: the keyword argument at fault, where the message begins with it, so that a
    trainer can name its config key instead (``with_config_key``)."""

    def __init__(self, message: str, option: str | None = None):
        super().__init__(message)
        self.option = option

    def with_config_key(self, keys: dict) -> "ModelOptionError":
        """This error with its option's name replaced by its config key from ``keys``."""
        if self.option not in keys:
            return self
        message = str(self).replace(self.option, keys[self.option], 1)
        return ModelOptionError(message, keys[self.option])


class UnknownNameError(ConfigError):
    """A trainer or dataset name that is not registered."""


def short_message(error):
    """The message of ``error`` without the worker traceback a DataLoader worker wraps it in.

    An exception raised in a worker process is re-raised in the main process as the same type,
    its message prefixed with "Caught X in DataLoader worker process N. Original Traceback ...".
    """
    message = str(error)
    marker = f"{type(error).__name__}: "
    if "Original Traceback" in message and marker in message:
        message = message.rsplit(marker, 1)[1]
    return message.strip()
