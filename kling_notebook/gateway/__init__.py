"""The gateway layer: the HTTP client of the AI/ML API (check, submit, get, wait, download), its
transports and reply parsing. It writes the journal (store) but knows nothing of jobs."""
