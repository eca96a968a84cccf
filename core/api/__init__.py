"""Plumbing shared by every JSON endpoint: auth, the error shape, input checks."""
