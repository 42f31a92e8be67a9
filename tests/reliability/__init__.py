"""Reliability and security suites (issue 7): every emulator fault on concurrent jobs with exact
accounting, bad input refused before any request, the key never shown or written, hostile text
escaped in every HTML view.

Kill and resume (SIGKILL mid-poll and mid-download, 100% recovered, nothing submitted twice) is
proven by ``tests/jobs/test_kill.py`` (issue 5) and not repeated here.
"""
