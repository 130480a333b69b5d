"""localssl: local self-supervised learning rules against backprop SSL, in PyTorch.

The TypeScript package drives this engine; nothing here prints to stdout, which belongs to the
bridge. Logs go to stderr through `logging`.
"""

__version__ = "0.1.0"

# The config schema version this engine understands; the TypeScript schema carries the same number.
SCHEMA_VERSION = 1
