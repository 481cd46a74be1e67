"""``empty_topics``: every record of the named topics deleted up to each partition's end (the
demo's fresh start and the tests' ``truncate_topics``), on the session's real broker."""

from __future__ import annotations

import uuid

from classpulse.config import Settings
from classpulse.kafka.admin import create_topics, describe_topics, empty_topics
from classpulse.kafka.produce import TopicProducer


def test_every_record_goes_and_only_the_topics_that_held_some_are_counted(
    kafka_broker: Settings,
) -> None:
    run = uuid.uuid4().hex[:8]
    fed, idle = f"empty-fed-{run}", f"empty-idle-{run}"
    create_topics(kafka_broker, [fed, idle], partitions=2)
    producer = TopicProducer(kafka_broker)
    for number in range(7):
        producer.send(fed, str(number).encode(), f"room-{number % 3}".encode())
    producer.flush()
    assert sum(info.messages for info in describe_topics(kafka_broker, [fed])) == 7

    assert empty_topics(kafka_broker, [fed, idle]) == 1
    after = {info.name: info for info in describe_topics(kafka_broker, [fed, idle])}
    assert after[fed].messages == 0 and after[idle].messages == 0
    assert sum(part.end for part in after[fed].partitions) == 7  # offsets go on
    assert empty_topics(kafka_broker, [fed, idle]) == 0
