"""Settings of a second instance started by tests/integration/test_network_instances.py: the test settings
on its own database (EMBEDDED_DATABASE_NAME), at its own address (SITE_URL), two records a page."""

import os

from config.settings.test import *  # noqa: F403

SITE_URL = os.environ["SITE_URL"]
NETWORK_OAI_PAGE_SIZE = 2
