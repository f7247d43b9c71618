"""A Web Push service emulator (RFC 8030 / 8291 / 8292) that also plays the browser's side: it makes
subscriptions and keeps their private keys, so it can check every push the way a push service
would and decrypt it the way the browser would. It imports nothing of the product.

    app = create_app()                                 # mount anywhere, or:
    serve("127.0.0.1", 8030)                           # python -m autopilot.sandbox.webpush --port 8030

The push resource (what an application server such as pywebpush calls):
  POST /push/{id}   checked in this order: unknown subscription → 404; an injected fault → its status
                    (429 with Retry-After); no numeric TTL → 400; bad Urgency or Topic → 400; body over
                    4096 bytes → 413; no `Authorization: vapid t=<JWT>, k=<key>` → 401; a signature that
                    does not verify with k (ES256), aud other than this origin, exp past or more than
                    24 h ahead, sub not mailto:/https:, or k other than a restricted subscription's
                    key → 403; Content-Encoding other than aes128gcm or a body that does not decrypt
                    → 400; else 201 with Location, and the message is kept decrypted. A message
                    with the Topic of one not yet delivered replaces it (RFC 8030 §5.4).

Control API (JSON, no auth):
  POST   /_emulator/subscriptions {"application_server_key"?: k}  → 201 {"id", "endpoint",
         "expirationTime": null, "keys": {"p256dh", "auth"}, …}  (what PushSubscription.toJSON() gives)
  GET    /_emulator/subscriptions/{id}                   the subscription, its push count and fault
  DELETE /_emulator/subscriptions/{id}                   unsubscribed: pushes answer 410 Gone from now on
  GET    /_emulator/subscriptions/{id}/messages          {"messages": [{id, payload (decrypted text), ttl,
                                                         urgency, topic, claims, received_at, delivered}]}
  POST   /_emulator/subscriptions/{id}/deliver           the device comes online: waiting messages are
                                                         handed over (listed), and no longer replaceable
  PUT    /_emulator/subscriptions/{id}/fault {"status": 404|410|413|429|500|503, "retry_after"?: s,
         "times"?: n}                                    answer the next n pushes (all, without times)
  DELETE /_emulator/subscriptions/{id}/fault;  POST /_emulator/reset
"""

from autopilot.sandbox.webpush.app import create_app, serve

__all__ = ["create_app", "serve"]
