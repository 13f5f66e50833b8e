"""Rasa custom actions for Tawasul, served by rasa-sdk (``python -m actions``, port 5055).

Each module holds one job (slot filling, the report form, status, FAQ ...); actions stay thin:
the protocol lives in ``ticket_client``, the words in ``domain.yml`` responses and the data
files next to the modules. The contract with the domain and the channels is ``docs/bot.md``.
"""
