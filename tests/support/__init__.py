"""What the tests share: fakes of the platforms, a recording platform, fixed data and helpers.

Each test file imports from here (`from tests.support.capture import ...`); no test file imports
from another.
"""
