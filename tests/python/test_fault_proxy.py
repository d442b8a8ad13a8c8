"""The fault proxy's own Produce refusal, decoded by kafka-python's protocol classes (an independent codec), for
every Produce version the proxy may be sent: a refusal the client cannot parse would test nothing."""
import importlib.util
import os

import pytest
from kafka.protocol.producer.produce import ProduceRequest, ProduceResponse

spec = importlib.util.spec_from_file_location(
    "fault_proxy", os.path.join(os.path.dirname(__file__), "..", "support", "fault_proxy.py"))
fault_proxy = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fault_proxy)


@pytest.mark.parametrize("version", range(3, 13))
def test_refusal_answers_every_partition_of_the_request(version):
    partitions = ProduceRequest.TopicProduceData.PartitionProduceData
    request = ProduceRequest(transactional_id=None, acks=-1, timeout_ms=1000, topic_data=[
        ProduceRequest.TopicProduceData(name="payments", partition_data=[partitions(index=2, records=b"abcdef"),
                                                                         partitions(index=5, records=b"x")]),
        ProduceRequest.TopicProduceData(name="audit", partition_data=[partitions(index=0, records=b"yz")])])
    request.with_header(correlation_id=77, client_id="tester")
    response = ProduceResponse.decode(fault_proxy.refusal(bytes(request.encode(version=version, header=True)), 19),
                                      version=version, framed=True, header=True)
    assert response.header.correlation_id == 77
    answered = [(t.name, p.index, p.error_code) for t in response.responses for p in t.partition_responses]
    assert answered == [("payments", 2, 19), ("payments", 5, 19), ("audit", 0, 19)]
