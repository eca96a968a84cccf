"""Django's PostgreSQL backend, with a health check made only after an idle spell."""
