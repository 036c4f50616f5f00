"""xlbench: meta-learning vs transfer for cross-lingual understanding, under a matched budget."""

__version__ = "0.1.0"
