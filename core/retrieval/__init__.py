"""Latent memories and retrieval: encoders, the scalable hybrid index, fusion,
natural-language time in queries, episodes and captions."""
