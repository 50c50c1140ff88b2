"""Watching sources: new posts preserved as they surface, and noticed when they disappear."""
