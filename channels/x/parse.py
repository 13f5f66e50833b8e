"""Account Activity webhook payloads → InboundMessages (protocols.md §3.4).

One citizen is one conversation whether they mention us or write a DM: ``user_id`` is the
sender's X account id. ``reply_context["mode"]`` says where to answer: ``"public"`` (with
``in_reply_to_tweet_id``, a mention) or ``"dm"``. Skipped: our own tweets and DMs (X echoes
them), retweets, tweets that neither mention, answer nor quote us, DMs not addressed to us,
every other event type (likes, follows, typing, read receipts, deletions).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.errors import MalformedPayload
from bot.model import Attachment, InboundEvent, InboundMessage
from channels.x.entities import (
    CHANNEL,
    as_dict,
    as_id,
    as_list,
    clean_text,
    contact,
    media_attachment,
    point_location,
    public_message,
)

TWEET_TIME = "%a %b %d %H:%M:%S %z %Y"


def parse_webhook(raw: bytes, *, user_id: str) -> list[InboundEvent]:
    """Every citizen message in one webhook delivery for our account ``user_id``.
    Raises :class:`bot.errors.MalformedPayload` for a body that is not an AAA payload."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedPayload(f"not JSON: {exc}") from exc
    payload = as_dict(body, "the webhook body")
    for_user = as_id(payload.get("for_user_id"), "for_user_id")
    if for_user != user_id:
        return []  # another subscription of the same app: not ours to answer
    events: list[InboundEvent] = []
    blocked = payload.get("user_has_blocked") is True
    for tweet in as_list(payload.get("tweet_create_events"), "tweet_create_events"):
        message = _tweet(as_dict(tweet, "a tweet"), user_id, blocked)
        if message:
            events.append(message)
    users = payload.get("users")
    users = users if isinstance(users, dict) else {}
    for event in as_list(payload.get("direct_message_events"), "direct_message_events"):
        message = _direct_message(as_dict(event, "a DM event"), user_id, users)
        if message:
            events.append(message)
    return events


def _timestamp(tweet: dict[str, Any]) -> float:
    millis = tweet.get("timestamp_ms")
    if isinstance(millis, str | int) and str(millis).isdigit():
        return int(millis) / 1000
    try:
        return datetime.strptime(str(tweet.get("created_at")), TWEET_TIME).timestamp()
    except ValueError as exc:
        raise MalformedPayload("a tweet has neither timestamp_ms nor created_at") from exc


def _mentions_us(tweet: dict[str, Any], entities: dict[str, Any], user_id: str) -> bool:
    mentioned = {
        str(m.get("id_str"))
        for m in as_list(entities.get("user_mentions"), "user_mentions")
        if isinstance(m, dict)
    }
    quoted = tweet.get("quoted_status")
    quoted_user = quoted.get("user") if isinstance(quoted, dict) else None
    quoted_author = quoted_user.get("id_str") if isinstance(quoted_user, dict) else None
    return (
        user_id in mentioned
        or str(tweet.get("in_reply_to_user_id_str")) == user_id
        or quoted_author == user_id
    )


def _own_handle(entities: dict[str, Any], user_id: str) -> str | None:
    for mention in as_list(entities.get("user_mentions"), "user_mentions"):
        if isinstance(mention, dict) and str(mention.get("id_str")) == user_id:
            handle = mention.get("screen_name")
            return handle if isinstance(handle, str) else None
    return None


def _tweet(tweet: dict[str, Any], user_id: str, blocked: bool) -> InboundMessage | None:
    author = as_dict(tweet.get("user"), "a tweet's user")
    author_id = as_id(author.get("id_str") or author.get("id"), "a tweet's user id")
    if author_id == user_id or "retweeted_status" in tweet:
        return None
    tweet_id = as_id(tweet.get("id_str") or tweet.get("id"), "a tweet id")
    full = tweet.get("extended_tweet") if tweet.get("truncated") else None
    source = full if isinstance(full, dict) else tweet
    text = source.get("full_text") or source.get("text") or ""
    if not isinstance(text, str):
        raise MalformedPayload("a tweet's text is not a string")
    entities = source.get("entities")
    entities = entities if isinstance(entities, dict) else {}
    if not _mentions_us(tweet, entities, user_id):
        return None
    attachments: list[Attachment] = []
    links: list[str] = []
    extended = source.get("extended_entities")
    media_list = extended.get("media") if isinstance(extended, dict) else None
    for media in as_list(media_list, "extended_entities.media"):
        if isinstance(media, dict):
            _add_media(media, attachments, links)
    cleaned = clean_text(
        text,
        own_handle=_own_handle(entities, user_id),
        drop=links,
        is_reply=tweet.get("in_reply_to_status_id_str") is not None,
    )
    location = point_location(tweet.get("coordinates"))
    return public_message(
        tweet_id=tweet_id,
        author_id=author_id,
        timestamp=_timestamp(tweet),
        text=cleaned,
        attachments=attachments,
        location=location,
        contact=contact(author_id, author, "screen_name"),
        lang=tweet.get("lang"),
        no_reply_reason="blocked by our account" if blocked else None,
    )


def _add_media(media: dict[str, Any], attachments: list[Attachment], links: list[str]) -> None:
    """A v1.1 media object (tweet or DM): its attachment, and the link X put in the text."""
    video_info = media.get("video_info")
    variants = video_info.get("variants") if isinstance(video_info, dict) else None
    found = media_attachment(
        media.get("type"), media.get("id_str"), media.get("media_url_https"), variants
    )
    if found:
        attachments.append(found)
    if isinstance(media.get("url"), str):
        links.append(media["url"])


def _direct_message(
    event: dict[str, Any], user_id: str, users: dict[str, Any]
) -> InboundMessage | None:
    if event.get("type") != "message_create":
        return None
    create = as_dict(event.get("message_create"), "message_create")
    sender = as_id(create.get("sender_id"), "message_create.sender_id")
    target = as_dict(create.get("target"), "message_create.target")
    recipient = as_id(target.get("recipient_id"), "target.recipient_id")
    if sender == user_id or recipient != user_id:
        return None  # our own reply echoed back, or a DM between other accounts
    event_id = as_id(event.get("id"), "a DM event id")
    created = event.get("created_timestamp")
    if not isinstance(created, str | int) or not str(created).isdigit():
        raise MalformedPayload("a DM event has no created_timestamp")
    data = as_dict(create.get("message_data"), "message_data")
    text = data.get("text") or ""
    if not isinstance(text, str):
        raise MalformedPayload("a DM's text is not a string")
    payload = None
    reply = data.get("quick_reply_response")
    if isinstance(reply, dict) and isinstance(reply.get("metadata"), str) and reply["metadata"]:
        payload = reply["metadata"]
    attachments: list[Attachment] = []
    links: list[str] = []
    attachment = data.get("attachment")
    if isinstance(attachment, dict) and attachment.get("type") == "media":
        _add_media(as_dict(attachment.get("media"), "attachment.media"), attachments, links)
    user = users.get(sender)
    return InboundMessage(
        channel=CHANNEL,
        provider_message_id=f"dm:{event_id}",
        user_id=sender,
        timestamp=int(created) / 1000,
        text=clean_text(text, own_handle=None, drop=links),
        payload=payload,
        attachments=tuple(attachments),
        contact=contact(sender, user if isinstance(user, dict) else None, "screen_name"),
        reply_context={"mode": "dm"},
    )
