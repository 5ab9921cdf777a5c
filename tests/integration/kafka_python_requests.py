"""What kafka-python puts on the wire: the `sent` fixture records the class name of every
request kafka-python sends during a test ("ProduceRequest_v2"), so that a test can check which
protocol versions it really exercised rather than trust a reading of kafka-python's source."""

import kafka.conn
import pytest


@pytest.fixture
def sent(monkeypatch):
    """The set of requests kafka-python sends during the test, by class name."""
    names = set()
    original = kafka.conn.BrokerConnection.send

    def recording_send(self, request, *args, **kwargs):
        names.add(type(request).__name__)
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(kafka.conn.BrokerConnection, "send", recording_send)
    return names


def versions_of(sent, api):
    """The versions of `api` ("ProduceRequest") in `sent`, sorted."""
    return sorted(int(n.rsplit("_v", 1)[1]) for n in sent if n.rsplit("_v", 1)[0] == api)
