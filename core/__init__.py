"""Ground floor: settings, urls, the shared domain, API plumbing and health."""
