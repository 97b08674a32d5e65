"""Chat (`/api/chat`, 001 §5, 003, 004 §4, 000 §4): relayed generations, streamed as SSE or joined."""
from chathub.blueprint import Blueprint

blp = Blueprint("chat", __name__, url_prefix="/api/chat", description="Chat with a model: streamed (SSE) or not")

from chathub.chat import routes  # noqa: E402,F401
