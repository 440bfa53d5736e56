"""ganzoo's version, in a module of its own so that every layer can read it without
importing the package (whose ``__init__`` sits on top of everything)."""

__version__ = "0.1.0"
