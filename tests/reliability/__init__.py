"""Issue #12: abuse, faults, load — the tests that show the service holds."""
