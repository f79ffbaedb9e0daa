"""Alerts to a chat or incident webhook: an Airflow notifier whose URL lives in an Airflow
Connection (`news_webhook`), so the URL, which for Slack holds a token, is masked in every log.

Used by news_daily's failure callback (a failed task's one-line reason) and by its DeadlineAlert
(the day's load is not done by its deadline). The body is JSON of the shape Slack-style incoming
webhooks take: {"text": "news-etl: …", …}. No connection configured: nothing is sent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.request

from airflow.sdk import BaseNotifier

log = logging.getLogger(__name__)

WEBHOOK_CONN_ID = "news_webhook"
TIMEOUT = 5.0  # seconds: an alert must not hold up the task or the triggerer


def webhook_url(conn) -> str:
    """The URL of a Connection: its host when that is a whole URL (JSON form: {"conn_type": "http",
    "host": "https://hooks.slack.com/services/…"}), else scheme://host[:port]/schema (URI form:
    AIRFLOW_CONN_NEWS_WEBHOOK='https://hooks.slack.com/services/…')."""
    host = conn.host or ""
    if "://" in host:
        return host + (f"/{conn.schema}" if conn.schema else "")
    scheme = conn.conn_type if conn.conn_type in ("http", "https") else "https"
    return f"{scheme}://{host}{f':{conn.port}' if conn.port else ''}/{conn.schema or ''}"


class WebhookNotifier(BaseNotifier):
    """POST `text` (and `fields`) as JSON to the URL of the Connection `conn_id`."""

    template_fields = ("text",)

    def __init__(self, text: str, fields: dict | None = None, conn_id: str = WEBHOOK_CONN_ID):
        super().__init__()
        self.text, self.fields, self.conn_id = text, dict(fields or {}), conn_id

    def _url(self) -> str | None:
        from airflow.sdk import BaseHook
        from airflow.sdk.exceptions import AirflowNotFoundException
        from airflow.sdk.log import mask_secret

        try:
            conn = BaseHook.get_connection(self.conn_id)
        except AirflowNotFoundException:
            return None
        url = webhook_url(conn)
        mask_secret(url)  # whatever logs it from here on shows ***
        return url

    def post(self) -> bool:
        """Send the alert; False (and a warning that names the connection, not the URL) when it
        cannot be sent: an alert that fails must not hide the failure it reports."""
        url = self._url()
        if url is None:
            return False
        body = json.dumps({"text": f"news-etl: {self.text}", **self.fields}).encode()
        request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT):
                return True
        except OSError as exc:
            log.warning("alert not sent: the webhook of connection %s was not reached: %s", self.conn_id,
                        type(exc).__name__)
            return False

    def notify(self, context) -> None:
        self.post()

    async def async_notify(self, context) -> None:  # DeadlineAlert callbacks run in the triggerer
        await asyncio.to_thread(self.post)
