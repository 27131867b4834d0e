"""A site owner's token endpoint for the Concierge widget, in Python with only the standard library.

This is the example from docs/embedding.md ("Identity and tokens"), runnable as is:

    CONCIERGE_URL=https://concierge.example.com \
    CONCIERGE_APP_ID=app_... CONCIERGE_APP_SECRET=cs_... \
    PORT=8000 python3 token_backend.py

It serves POST /concierge-token to the site's own pages. The browser never sees the app secret: this
backend exchanges it, with the signed-in user's id, for a short-lived widget token and returns only
{"token", "expiresAt"}. It also serves a tiny page at / so the widget's origin is this server's origin.
"""

import json
import os
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONCIERGE_URL = os.environ["CONCIERGE_URL"].rstrip("/")
APP_ID = os.environ["CONCIERGE_APP_ID"]
APP_SECRET = os.environ["CONCIERGE_APP_SECRET"]  # keep it on the server: never send it to a browser


def concierge_token(end_user_id, env=None, secrets=None, expires_in="1h"):
    """Exchanges the app credentials for a widget token scoped to one end user."""
    body = {"appId": APP_ID, "appSecret": APP_SECRET, "endUserId": end_user_id, "expiresIn": expires_in}
    if env:
        body["env"] = env  # e.g. tenant id, region, plan: reaches the agent's sandbox, never the browser
    if secrets:
        body["secrets"] = secrets  # e.g. a per-user API token: stored encrypted, redacted in output
    request = urllib.request.Request(
        f"{CONCIERGE_URL}/api/v1/auth/token",
        data=json.dumps(body).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["data"]  # {"token": "eyJ...", "expiresAt": "2026-...Z"}


def signed_in_user(handler):
    """Stand-in for your own session lookup: here the user id comes from a `session` cookie."""
    for part in handler.headers.get("Cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == "session" and value:
            return value
    return None


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        if self.path != "/concierge-token":
            return self.reply(404, {"error": "not found"})
        user = signed_in_user(self)
        if user is None:
            return self.reply(401, {"error": "sign in first"})
        try:
            data = concierge_token(user, env={"CUSTOMER_TIER": "gold-" + user}, secrets={"CRM_TOKEN": "crm-" + user + "-s3cret"})
        except urllib.error.HTTPError as error:
            failure = json.load(error).get("error", {})
            return self.reply(502, {"error": failure.get("code", "TOKEN_EXCHANGE_FAILED")})
        self.reply(200, {"token": data["token"], "expiresAt": data["expiresAt"]})

    def do_GET(self):
        self.reply(200, {"status": "ok"})

    def reply(self, status, payload):
        body = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass  # keep the test output quiet


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "8000"))), Handler)
    print(f"token backend listening on http://127.0.0.1:{server.server_port}", flush=True)
    server.serve_forever()
