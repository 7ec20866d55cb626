-- A session's client address and user agent are personal data: from this version they are
-- stored sealed with the server's data keys (api/sessions.py, services/personal_data.py), or
-- not at all without keys. The values stored in clear before are dropped: a migration has no
-- keys to seal them with, and they are labels only (sessions live a bounded time).
UPDATE api_sessions SET address = '', user_agent = '';
