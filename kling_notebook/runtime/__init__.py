"""The runtime layer: whole generations as jobs on one engine loop (the pipeline, the runner with
one concurrency gate per account, batches, resume, settling uncertain attempts, connect)."""
