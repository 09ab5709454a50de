"""Models, harnesses and scenarios shared by the tests (imported as ``support.*``)."""
