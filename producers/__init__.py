"""Service side: publishing events, the synthetic borough, and extract import."""
