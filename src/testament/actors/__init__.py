"""Units and people, attributions of incidents to them with their bases, and accountability."""
