"""The one exception type of the dataset layer."""

from __future__ import annotations


class DatasetError(ValueError):
    """A dataset is missing, incomplete or corrupt; the message names the file and the problem."""
