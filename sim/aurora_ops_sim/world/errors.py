"""The error a bad world file raises (load.py, load_dr.py)."""


class WorldError(Exception):
    """The world file is unreadable or breaks the schema; the message names the field."""
