"""Settings: ``main`` is the entry point; ``test`` is for the test suite."""
