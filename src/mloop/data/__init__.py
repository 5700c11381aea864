"""Data: schemas, validation and (later) dataset versions."""
