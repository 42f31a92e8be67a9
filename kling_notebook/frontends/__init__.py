"""The front ends: rich display, text progress, the notebook panel and the command line. They draw
what the runtime reports and never talk HTTP themselves."""
