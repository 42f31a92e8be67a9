"""The store layer: what is kept on disk (the journal, the outputs folder, partial downloads,
sidecars, thumbnails). It builds on the domain only."""
