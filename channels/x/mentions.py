"""API v2 mention-timeline pages (``GET /2/users/:id/mentions``) → InboundMessages, the same
messages the webhook gives for the same tweets (same ``provider_message_id``, so the hub's
dedup drops a mention seen both ways). Protocol: protocols.md §3.2."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.errors import MalformedPayload
from bot.model import Attachment, InboundMessage
from channels.x.entities import (
    as_dict,
    as_id,
    as_list,
    clean_text,
    contact,
    media_attachment,
    point_location,
    public_message,
)

#: What the poller asks for, so a page carries everything ``parse_mentions`` reads.
REQUEST_FIELDS: Mapping[str, str] = {
    "expansions": "author_id,referenced_tweets.id,attachments.media_keys,geo.place_id",
    "tweet_fields": (
        "created_at,conversation_id,in_reply_to_user_id,referenced_tweets,entities,"
        "attachments,geo,lang,note_tweet"
    ),
    "user_fields": "name,username",
    "media_fields": "type,url,variants,preview_image_url",
}


def parse_mentions(page: Mapping[str, Any], *, user_id: str) -> list[InboundMessage]:
    """The citizen mentions on one page (our own posts and retweets skipped). Raises
    :class:`bot.errors.MalformedPayload` for a page that is not the API's shape."""
    includes = page.get("includes")
    includes = includes if isinstance(includes, dict) else {}
    users = {
        str(u.get("id")): u
        for u in as_list(includes.get("users"), "includes.users")
        if isinstance(u, dict)
    }
    media = {
        str(m.get("media_key")): m
        for m in as_list(includes.get("media"), "includes.media")
        if isinstance(m, dict)
    }
    messages = []
    for tweet in as_list(page.get("data"), "data"):
        message = _mention(as_dict(tweet, "a tweet"), user_id, users, media)
        if message:
            messages.append(message)
    return messages


def _timestamp(value: object) -> float:
    if not isinstance(value, str):
        raise MalformedPayload("a tweet has no created_at (ask for tweet.fields=created_at)")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError as exc:
        raise MalformedPayload(f"bad created_at {value!r}") from exc


def _attachments(tweet: dict[str, Any], media: dict[str, Any]) -> tuple[list[Attachment], set[str]]:
    found, keys = [], set()
    attached = tweet.get("attachments")
    for key in as_list(attached.get("media_keys") if isinstance(attached, dict) else None, "keys"):
        item = media.get(str(key))
        if isinstance(item, dict):
            attachment = media_attachment(
                item.get("type"), item.get("media_key"), item.get("url"), item.get("variants")
            )
            if attachment:
                found.append(attachment)
            keys.add(str(key))
    return found, keys


def _mention(
    tweet: dict[str, Any], user_id: str, users: dict[str, Any], media: dict[str, Any]
) -> InboundMessage | None:
    tweet_id = as_id(tweet.get("id"), "a tweet id")
    author_id = as_id(tweet.get("author_id"), "a tweet's author_id")
    referenced = [
        r.get("type")
        for r in as_list(tweet.get("referenced_tweets"), "referenced_tweets")
        if isinstance(r, dict)
    ]
    if author_id == user_id or "retweeted" in referenced:
        return None
    note = tweet.get("note_tweet")
    text = note.get("text") if isinstance(note, dict) else None
    text = text if isinstance(text, str) else tweet.get("text", "")
    if not isinstance(text, str):
        raise MalformedPayload("a tweet's text is not a string")
    entities = tweet.get("entities")
    entities = entities if isinstance(entities, dict) else {}
    own_handle = next(
        (
            m.get("username")
            for m in as_list(entities.get("mentions"), "entities.mentions")
            if isinstance(m, dict)
            and str(m.get("id")) == user_id
            and isinstance(m.get("username"), str)
        ),
        None,
    )
    attachments, media_keys = _attachments(tweet, media)
    geo = tweet.get("geo")
    links = [
        str(u["url"])
        for u in as_list(entities.get("urls"), "entities.urls")
        if isinstance(u, dict)
        and u.get("media_key") in media_keys
        and isinstance(u.get("url"), str)
    ]
    cleaned = clean_text(
        text, own_handle=own_handle, drop=links, is_reply="replied_to" in referenced
    )
    location = point_location(geo.get("coordinates") if isinstance(geo, dict) else None)
    return public_message(
        tweet_id=tweet_id,
        author_id=author_id,
        timestamp=_timestamp(tweet.get("created_at")),
        text=cleaned,
        attachments=attachments,
        location=location,
        contact=contact(author_id, users.get(author_id), "username"),
        lang=tweet.get("lang"),
    )
