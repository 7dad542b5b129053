"""Messaging mechanics: Kafka producer handle, transactional outbox and relay, idempotent consumer."""
