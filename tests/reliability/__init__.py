"""Reliability and security suites: faults, hostile input, secrets, escaping (issue 7)."""
