"""Consumer-group membership with kafka-python members, each its own process: join, clean leave,
SIGKILL, one owner per partition after every rebalance (the members' own view and
DescribeGroups), every record read, restarts resume at the committed offsets. The scenario is
group_members.membership_scenario."""

import pytest

from group_clients import GROUP_OVERRIDES
from group_members import membership_scenario


@pytest.fixture
def broker(sluice):
    b = sluice.start(overrides=GROUP_OVERRIDES)
    yield b
    assert not b.problems_since(0), b.log()


def test_kafka_python_members_join_leave_are_killed_and_resume(broker):
    membership_scenario(broker, "kafka-python")
