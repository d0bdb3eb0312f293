"""Stage 4: render, validate and apply deployment manifests."""
