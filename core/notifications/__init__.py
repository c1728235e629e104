"""The durable outbox: every outgoing message, from any part of the system, goes through it.

``outbox.enqueue`` queues a message inside the caller's transaction (so a rolled-back change
queues nothing); the schedulers derive reminders, digests and escalations from the data; the
dispatcher claims due rows in lane order and sends them through a channel adapter.
"""
