"""Roles, from least to most trusted; each includes everything the ones before it may do."""

from __future__ import annotations

ROLES = ("viewer", "investigator", "reviewer", "admin")
DESCRIPTIONS = {
    "viewer": "read only",
    "investigator": "collect, create and edit incidents, link assets",
    "reviewer": "everything an investigator does, and verify other people's incidents",
    "admin": "everything, plus users, taxonomy and settings",
}


def allows(role: str, needed: str) -> bool:
    """Whether `role` may do what `needed` may do."""
    return ROLES.index(role) >= ROLES.index(needed)
