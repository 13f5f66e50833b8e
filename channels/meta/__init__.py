"""Code shared by the two Meta Graph channels (WhatsApp Cloud API and Messenger).

``config`` (base URL, API version, timeout), ``verify`` (``X-Hub-Signature-256`` and the
verify-token GET handshake), ``graph`` (the HTTP calls, with ``errors`` mapping Graph error
bodies to :mod:`bot.errors`), ``webhook`` (the routes both channels mount), ``window`` (the 24 h
messaging window kept in Redis), ``delivery`` and ``ledger`` (the parts of a reply, each sent
once), ``menus`` (numbered-choice fallbacks), ``textcut`` (grapheme-safe truncation and
splitting), ``media`` (accepted file types, checksums) and ``texts`` (the few words the
adapters add themselves, from ``texts.yml``).
"""
