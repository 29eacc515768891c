"""The local store: one canonical activity per real session, linked to the provider records."""
