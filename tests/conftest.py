"""Test configuration shared by every test module."""

import os

from hypothesis import settings

# In CI, hypothesis draws the same examples every run, so a red build is reproducible.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
