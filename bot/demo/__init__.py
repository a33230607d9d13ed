"""Demo events built from real notices, for the console chat and the tests."""
