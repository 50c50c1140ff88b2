"""The closed vocabularies of actors, attributions and accountability events."""

from __future__ import annotations

KINDS = ("force", "formation", "unit", "individual")
# Kinds that may be a parent: a force holds formations, formations hold units, and so on.
GROUP_KINDS = ("force", "formation", "unit")
ROLES = ("direct perpetrator", "present", "commander", "unit responsible")
CONFIDENCE = ("confirmed", "probable", "possible", "unverified")
STATUSES = ("proposed", "confirmed", "disputed", "rejected")
REVIEW_DECISIONS = ("confirmed", "disputed", "rejected")
BASIS_KINDS = (
    "uniform",
    "insignia",
    "speech",
    "face in another video",
    "self-identification",
    "official statement",
    "geolocation",
    "other",
)
EVENT_KINDS = (
    "allegation reported",
    "investigation announced",
    "suspect identified",
    "charged",
    "trial opened",
    "convicted",
    "acquitted",
    "sentence",
    "released",
    "pardoned",
    "promoted",
    "decorated",
)
# Events that are an official reaction (everything but a third party's allegation).
OFFICIAL_REACTIONS = EVENT_KINDS[1:]
# Who may see an individual's identification (units and forces are open to every role).
IDENTIFICATIONS_ROLE = "investigator"
