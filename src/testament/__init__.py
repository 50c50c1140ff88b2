"""testament: an evidence locker and verification workbench for footage of atrocities."""

__version__ = "0.1.0"
