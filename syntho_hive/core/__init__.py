"""SynthoHive core: metadata, reversible transformer, generative models, checkpoints."""
