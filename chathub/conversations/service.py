"""Conversation rules: ownership (`get_owned_or_404`), listing with search and filters, create,
rename, delete, messages (list, append, clear), and export as JSON or Markdown."""
import json
import math
import re

from sqlalchemy import delete, func, select

from chathub.conversations.models import Conversation, Message
from chathub.errors import ApiError
from chathub.extensions import db
from chathub.timeutil import iso, utcnow

DEFAULT_TITLE = "New conversation"
TITLE_LENGTH = 50


def not_found():
    """The 404 for a conversation that does not exist or is not the caller's."""
    return ApiError(404, "CONVERSATION_NOT_FOUND", "Conversation not found")


def get_owned_or_404(user_id, conversation_id):
    """The caller's conversation with this id; 404 when missing or another user's."""
    conversation = db.session.get(Conversation, str(conversation_id)) if conversation_id else None
    if conversation is None or conversation.user_id != user_id:
        raise not_found()
    return conversation


def title_from(text):
    """A conversation title from its first message (whitespace collapsed, at most 50 characters)."""
    text = " ".join((text or "").split())
    if not text:
        return DEFAULT_TITLE
    return text if len(text) <= TITLE_LENGTH else text[: TITLE_LENGTH - 1].rstrip() + "…"


def create_conversation(user_id, data, commit=True):
    """A new conversation for `user_id` (title from `title` or 004's `name`)."""
    conversation = Conversation(
        user_id=user_id,
        title=data.get("title") or data.get("name") or DEFAULT_TITLE,
        model=data.get("model"),
        character_id=data.get("character_id"),
        meta=data.get("metadata") or {},
    )
    db.session.add(conversation)
    if commit:
        db.session.commit()
        attach_counts([conversation])
    return conversation


def update_conversation(user_id, conversation_id, data):
    """Rename a conversation or replace its metadata."""
    conversation = get_owned_or_404(user_id, conversation_id)
    if data.get("title") or data.get("name"):
        conversation.title = data.get("title") or data.get("name")
    if "metadata" in data:
        conversation.meta = data["metadata"] or {}
    if "model" in data:
        conversation.model = data["model"]
    if "character_id" in data:
        conversation.character_id = data["character_id"]
    conversation.updated_at = utcnow()
    db.session.commit()
    attach_counts([conversation])
    return conversation


def delete_conversation(user_id, conversation_id):
    """Delete a conversation and its messages (a running generation in it is stopped first)."""
    conversation = get_owned_or_404(user_id, conversation_id)
    stop_generations(conversation.id)
    db.session.execute(delete(Message).where(Message.conversation_id == conversation.id))
    db.session.delete(conversation)
    db.session.commit()


def stop_generations(conversation_id):
    """Stop what is being generated in this conversation (its rows are about to go)."""
    from chathub.chat import generations

    for generation in generations.running_in_conversation(conversation_id):
        generations.stop(generation.message_id, "deleted")


def attach_counts(conversations):
    """Set `message_count` and `last_message_at` on each conversation (one query for all)."""
    ids = [c.id for c in conversations]
    counts = {}
    if ids:
        rows = db.session.execute(
            select(Message.conversation_id, func.count(Message.id), func.max(Message.created_at))
            .where(Message.conversation_id.in_(ids))
            .group_by(Message.conversation_id)
        ).all()
        counts = {row[0]: (row[1], row[2]) for row in rows}
    for conversation in conversations:
        conversation.message_count, conversation.last_message_at = counts.get(conversation.id, (0, None))
    return conversations


def list_conversations(user_id, args, page, page_size):
    """A page of the caller's conversations, most recently active first.

    Filters: `search` (title, case-insensitive), `model`, `character_id`, `tag` (in metadata.tags).
    004's `skip`/`limit` select the window directly when given.
    """
    statement = select(Conversation).where(Conversation.user_id == user_id)
    if args.get("search"):
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", args["search"].lower()) + "%"
        statement = statement.where(func.lower(Conversation.title).like(pattern, escape="\\"))
    if args.get("model"):
        statement = statement.where(Conversation.model == args["model"])
    if args.get("character_id"):
        statement = statement.where(Conversation.character_id == args["character_id"])
    statement = statement.order_by(Conversation.updated_at.desc(), Conversation.id)
    tag = args.get("tag")
    if tag:
        # Tags live in JSON; filtering in Python keeps SQLite and PostgreSQL identical.
        rows = [c for c in db.session.execute(statement).scalars() if tag in ((c.meta or {}).get("tags") or [])]
        total = len(rows)
        offset = args["skip"] if "skip" in args else (page - 1) * page_size
        items = rows[offset: offset + page_size]
    else:
        total = db.session.execute(select(func.count()).select_from(statement.order_by(None).subquery())).scalar_one()
        offset = args["skip"] if "skip" in args else (page - 1) * page_size
        items = db.session.execute(statement.limit(page_size).offset(offset)).scalars().all()
    current = offset // page_size + 1
    total_pages = math.ceil(total / page_size) if total else 0
    pagination = {
        "page": current,
        "page_size": page_size,
        "total": total,
        "total_pages": total_pages,
        "has_next": offset + len(items) < total,
        "has_prev": offset > 0,
    }
    return attach_counts(items), pagination


def messages_of(conversation_id):
    """The messages of a conversation, oldest first."""
    return db.session.execute(
        select(Message).where(Message.conversation_id == conversation_id).order_by(Message.created_at, Message.id)
    ).scalars().all()


def get_with_messages(user_id, conversation_id):
    """The caller's conversation and its messages."""
    conversation = get_owned_or_404(user_id, conversation_id)
    attach_counts([conversation])
    return conversation, messages_of(conversation.id)


def append_message(user_id, conversation_id, role, content):
    """000: store a message by hand (a greeting, a note); it is complete at once."""
    conversation = get_owned_or_404(user_id, conversation_id)
    now = utcnow()
    message = Message(conversation_id=conversation.id, role=role, content=content, status="complete",
                      created_at=now, finished_at=now)
    db.session.add(message)
    conversation.updated_at = now
    db.session.commit()
    return message


def clear_messages(user_id, conversation_id):
    """000: remove every message of a conversation (the conversation stays); how many were removed."""
    conversation = get_owned_or_404(user_id, conversation_id)
    stop_generations(conversation.id)
    result = db.session.execute(delete(Message).where(Message.conversation_id == conversation.id))
    conversation.updated_at = utcnow()
    db.session.commit()
    return result.rowcount or 0


def export_json(conversation, messages):
    """The conversation as a JSON document (what GET shows, with every message)."""
    from chathub.conversations.schemas import ConversationDetailSchema

    body = ConversationDetailSchema().dump({**vars_of(conversation), "messages": messages})
    body["exported_at"] = iso(utcnow())
    return json.dumps(body, ensure_ascii=False, indent=2)


def vars_of(conversation):
    """A dict view of a conversation for serialisation with extra keys."""
    names = ("id", "user_id", "title", "model", "character_id", "meta", "message_count", "last_message_at",
             "created_at", "updated_at")
    return {name: getattr(conversation, name, None) for name in names}


def export_markdown(conversation, messages):
    """The conversation as Markdown: a title, its facts, then each message under its role."""
    lines = [f"# {conversation.title}", ""]
    lines.append(f"- Conversation: `{conversation.id}`")
    if conversation.model:
        lines.append(f"- Model: {conversation.model}")
    lines.append(f"- Created: {iso(conversation.created_at)}")
    tags = (conversation.meta or {}).get("tags")
    if tags:
        lines.append("- Tags: " + ", ".join(str(t) for t in tags))
    lines.append("")
    for message in messages:
        heading = {"user": "User", "assistant": "Assistant", "system": "System"}.get(message.role, message.role)
        facts = [iso(message.created_at)]
        if message.role == "assistant" and message.model:
            facts.append(message.model)
        if message.status != "complete":
            facts.append(message.status)
        lines += [f"## {heading}", "", f"*{' · '.join(facts)}*", "", message.content or "", ""]
    return "\n".join(lines).rstrip() + "\n"


def export(user_id, conversation_id, fmt):
    """(filename, mimetype, text) of the caller's conversation exported as JSON or Markdown."""
    conversation, messages = get_with_messages(user_id, conversation_id)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", conversation.title).strip("-")[:60] or "conversation"
    if fmt in ("markdown", "md"):
        return f"{stem}.md", "text/markdown", export_markdown(conversation, messages)
    return f"{stem}.json", "application/json", export_json(conversation, messages)
