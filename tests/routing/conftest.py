"""The routing tests use the case tests' people around a school and their filing helper."""
from tests.cases.conftest import filing, people  # noqa: F401 – fixtures
