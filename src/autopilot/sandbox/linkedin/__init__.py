"""A LinkedIn emulator that follows docs/…/linkedin-api-contract.md: OAuth 2.0 + OpenID Connect,
the versioned /rest API (posts, images, documents, engagement) with LinkedIn's gate, errors,
quotas and little-text parsing, plus fault injection. It imports nothing of the product.

    app = create_app(SandboxConfig(auto_approve=True))      # mount anywhere, e.g. /sandbox/linkedin
    serve("127.0.0.1", 8765, SandboxConfig())               # or: python -m autopilot.sandbox.linkedin

LinkedIn's paths (www.linkedin.com and api.linkedin.com share one root here):
  GET  /oauth/v2/authorization            consent page (form POSTs to /oauth/v2/authorization/consent);
                                          ?sandbox_member=<display name> picks the member when auto-approving
  POST /oauth/v2/accessToken              authorization_code | refresh_token (form-encoded)
  POST /oauth/v2/introspectToken, /oauth/v2/revoke
  GET  /.well-known/openid-configuration (also /oauth/.well-known/…), /oauth/openid/jwks, /v2/userinfo
  POST /rest/posts; GET /rest/posts?q=author|ids=List(…); GET|POST(PARTIAL_UPDATE)|DELETE /rest/posts/{urn}
  POST /rest/images|documents?action=initializeUpload; PUT <uploadUrl>; GET /rest/images|documents/{urn}
  GET  /rest/memberCreatorPostAnalytics, /rest/socialMetadata/{urn}, /rest/socialActions/{urn}[/comments],
       /rest/reactions/(entity:{urn})?q=entity
  GET  /rest/organizationAcls, /rest/organizations/{id}, /rest/organizationalEntityShareStatistics,
       /rest/organizationalEntityFollowerStatistics, /rest/networkSizes/{urn}: Company Pages
       (organizations.py, which documents them and their control API /_sandbox/organizations)

Control API (JSON, no auth):
  GET    /_sandbox/posts[?author=urn&include_deleted=true]  {"elements":[{urn, activity, author, commentary
         (stored raw), displayed_text, truncated, hashtags, mentions, created_at (ms), content,
         lifecycle_state, deleted, reactions, comments}]}
  GET    /_sandbox/app; PUT /_sandbox/app {any SandboxConfig field: value}  → the whole config
  POST   /_sandbox/faults {"seed": int, "rules": [{"endpoint": "posts.create"|"token"|"any"|…,
         "fault": "error_500"|"error_503"|"rate_limit"|"timeout"|"reset"|"commit_then_drop",
         "probability": 1.0, "times": null, "timeout_s": 30, "hang_s": 0}]};  DELETE /_sandbox/faults
  POST   /_sandbox/tokens/revoke {"member": sub} | {"access_token": t}   (a member revoke also drops the grant)
  POST   /_sandbox/tokens/mint {"members": [display name, …], "scopes": [...]}  → {"elements": [{member, sub,
         email, access_token, expires_in, scope, refresh_token?}]}: tokens as if each member consented
  POST   /_sandbox/tokens/expire {"member": sub} | {"access_token": t}   (refresh tokens stay valid)
  GET    /_sandbox/clock; POST /_sandbox/clock {"advance_s": s} | {"now": iso8601}
  GET    /_sandbox/stats  {token_grants, posts_created, requests ("endpoint status"), served (5xx, 429), faults_fired}
  POST   /_sandbox/posts/{urn}/reactions {"count": n, "type": "LIKE"}
  POST   /_sandbox/posts/{urn}/comments {"text": …, "author_name": …}
  POST   /_sandbox/posts/{urn}/impressions {"impressions": n, "members_reached": m, "reshares": r}
  POST   /_sandbox/reset (everything but the config; the clock back to real time);  GET /_sandbox/feed (HTML)

Endpoint names (faults, quotas, stats): authorize, token, introspect, revoke, userinfo, posts.create,
posts.get, posts.finder, posts.update, posts.delete, images.init, documents.init, images.get,
documents.get, media.upload, analytics, social_metadata, social_actions, comments.list, reactions.list,
organizations.acls, organizations.get, organizations.share_statistics, organizations.follower_statistics,
organizations.network_size (these five also share the daily quota named community_management).
"""

from autopilot.sandbox.linkedin.app import create_app, serve
from autopilot.sandbox.linkedin.config import SandboxConfig

__all__ = ["SandboxConfig", "create_app", "serve"]
