"""Custom Rasa NLU components for Tawasul.

``arabic_text`` is pure Python (standard library only, Python 3.10+) and is shared with the app
(Python >= 3.11). The other modules import Rasa and are loaded only inside ``.venv-rasa``:

* ``arabic_normaliser.ArabicNormaliser``: first in the pipeline; rewrites the message text.
* ``ticket_number_extractor.TicketNumberExtractor``: adds ``ticket_id`` entities by regex.

Importing this package imports neither of them, so the app can use ``nlu_components.arabic_text``
without Rasa installed.
"""
