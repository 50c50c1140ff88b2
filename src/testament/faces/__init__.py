"""Faces across footage: dlib's detections and 128-d descriptors, clustered across the locker.

Off until an admin turns it on for the store. A cluster is a lead for an investigator to
check, never an identification; only investigators and admins see clusters, and every
view of a face crop is in the audit.
"""
