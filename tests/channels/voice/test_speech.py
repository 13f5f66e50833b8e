"""The bot's replies as a caller hears them (pure)."""

from __future__ import annotations

from bot.model import Button, OutboundMessage
from channels.voice.menus import assign_keys, choose_language, choose_option, pressed
from channels.voice.prompts import Prompts
from channels.voice.speech import photo_question, speakable, spoken_replies


def reply(text: str = "", buttons: tuple[Button, ...] = (), **extra: object) -> OutboundMessage:
    return OutboundMessage(
        channel="voice", recipient_id="+966500000001", key="CA1:3:0", text=text,
        buttons=buttons, **extra,  # type: ignore[arg-type]
    )  # fmt: skip


def test_long_numbers_are_read_digit_by_digit_and_short_ones_stay() -> None:
    assert speakable("Report 804211937 filed, 72 hours.", ", ") == (
        "Report 8, 0, 4, 2, 1, 1, 9, 3, 7 filed, 72 hours."
    )
    assert speakable("الرقم ٨٠٤٢١١ خلال 2026", "، ") == "الرقم 8، 0، 4، 2، 1، 1 خلال 2026"
    assert speakable("Call +966512345678", ", ").endswith("9, 6, 6, 5, 1, 2, 3, 4, 5, 6, 7, 8")


def test_symbols_and_markup_are_not_read() -> None:
    assert speakable("We've got your photo 📷 **thanks** · ok", ", ") == (
        "We've got your photo thanks ok"
    )


def test_buttons_become_keys_on_the_last_question(prompts: Prompts) -> None:
    services = tuple(Button(f"Service {i}", f'/inform{{"service":"s{i}"}}') for i in range(12))
    spoken = spoken_replies(
        [reply("Hello", (Button("Old", "/old"),)), reply("Which service?", services)],
        prompts,
        "en",
    )
    assert len(spoken.keys) == 10 and spoken.keys[0] == ("1", services[0])
    assert spoken.texts[:2] == ("Hello.", "Which service?")
    assert spoken.texts[2] == prompts.text("press_for", "en", digit="1", title="Service 0")
    assert spoken.texts[-1] == prompts.text("press_for", "en", digit="0", title="Service 9")
    rows = [[key, b.title, b.payload] for key, b in spoken.keys]
    assert pressed("0", rows) == ("Service 9", '/inform{"service":"s9"}')
    assert pressed("3", rows[:2]) is None
    assert (
        pressed("12", rows) is None and pressed("*", rows) is None and pressed(None, rows) is None
    )


def test_buttons_numbered_in_their_titles_keep_their_numbers() -> None:
    ratings = [Button(f"{n} stars", f'/rate{{"rating":"{n}"}}') for n in (5, 4, 3, 2, 1)]
    assert [key for key, _ in assign_keys(ratings)] == ["5", "4", "3", "2", "1"]
    arabic = [Button("٥ ممتاز", "/rate5"), Button("٤ جيد جداً", "/rate4")]
    assert [key for key, _ in assign_keys(arabic)] == ["5", "4"]
    tickets = [Button("804211937 · Potholes", "/a"), Button("812345678 · Waste", "/b")]
    assert [key for key, _ in assign_keys(tickets)] == ["1", "2"]  # both start with 8


def test_the_photo_question_is_replaced_and_the_location_question_explained(
    prompts: Prompts,
) -> None:
    photo = reply("Send a photo, or say skip", (Button("Skip", "/deny"),))
    assert photo_question(photo)
    assert not photo_question(
        reply("Yes or no?", (Button("Yes", "/affirm"), Button("No", "/deny")))
    )
    where = reply("Where is it?", request_location=True)
    spoken = spoken_replies([where, photo], prompts, "ar")
    assert spoken.texts == (
        "Where is it?",
        prompts.text("location_hint", "ar"),
        prompts.text("photo_skipped", "ar"),
    )
    assert spoken.keys == ()


def test_lines_become_sentences() -> None:
    summary = "Please check:\n• Service: Potholes\n• Location: King Fahd Road\nIs it correct?"
    assert speakable(summary, ", ") == (
        "Please check: Service: Potholes. Location: King Fahd Road. Is it correct?"
    )


def test_language_choice_by_key_or_word() -> None:
    assert choose_language("1", None) == "ar" and choose_language("2", "عربي") == "en"
    assert choose_language(None, "English please") == "en"
    assert choose_language(None, "عربي") == "ar" and choose_language(None, "بالعربي") == "ar"
    assert choose_language("9", None) is None and choose_language(None, "hello") is None
    assert choose_language(None, None) is None


def test_menu_choice_by_key_or_words(prompts: Prompts) -> None:
    assert choose_option("1", None, prompts, "ar") == "report"
    assert choose_option("0", None, prompts, "ar") == "agent"
    assert choose_option("4", None, prompts, "en") == "agent"
    assert choose_option("7", None, prompts, "en") is None
    assert choose_option(None, "I want to make a new report", prompts, "en") == "report"
    assert choose_option(None, "أبغى أعرف حالة البلاغ", prompts, "ar") == "status"
    assert choose_option(None, "ابي اكلم موظف", prompts, "ar") == "agent"
    assert choose_option(None, "my report was ignored", prompts, "en") == "followup"
    assert choose_option(None, "the weather is nice", prompts, "en") is None
