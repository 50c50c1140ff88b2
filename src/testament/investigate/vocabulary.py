"""The closed vocabularies of an incident record, shared by forms, the API and validation."""

from __future__ import annotations

STATUSES = ("new", "in_progress", "needs_review", "verified", "disputed", "rejected")
STATUS_LABELS = {
    "new": "New",
    "in_progress": "In progress",
    "needs_review": "Needs review",
    "verified": "Verified",
    "disputed": "Disputed",
    "rejected": "Rejected",
}
# Statuses anyone who edits may set; the others are the outcome of a review.
WORKING_STATUSES = ("new", "in_progress", "needs_review")
REVIEW_DECISIONS = ("verified", "disputed", "rejected")

VICTIM_STATUS = ("civilian", "prisoner of war", "combatant", "unknown")
AGE_GROUPS = ("unknown", "child", "adult", "older person", "mixed")
SEXES = ("unknown", "female", "male", "mixed")
LOCATION_PRECISION = ("exact", "within 100 m", "within 1 km", "settlement", "district", "region")
LOCATION_METHOD = (
    "geolocated from footage",
    "media metadata",
    "stated in post",
    "witness account",
    "other",
)
