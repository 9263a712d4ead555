"""reconciler: keep Redis Cloud Pro databases in line with YAML files kept in git."""

__version__ = "0.1.0"
