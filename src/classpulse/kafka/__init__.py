"""Kafka for ClassPulse: the local single-node broker, topic administration and producing.

``broker`` runs Apache Kafka (KRaft, combined broker+controller) from the jars that
``jvm/runtime/pom.xml`` pins; ``admin`` lists and creates topics; ``produce`` publishes topic
directories (the import format) into Kafka. The Python client is confluent-kafka (librdkafka).
"""
