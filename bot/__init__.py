"""The channel hub: webhook ingest, durable queues, ordered conversations with Rasa, sending."""
