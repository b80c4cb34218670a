"""Data: synthetic generators and bundled real datasets."""
