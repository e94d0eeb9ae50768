"""Thin AWS adapters: AWS shapes in, plain dicts and named errors out."""
