"""One module per vendor: its routes, auth check and error bodies, rendered from the directory."""
