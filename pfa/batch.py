def plan(engine):
    """Batch plans are added in batch.py proper."""
    return None
