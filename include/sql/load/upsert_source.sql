-- Keep the source dimension in step with the source files; untouched when nothing changed.
INSERT INTO news.source AS s (name, title, timezone, has_story_codes)
VALUES (%(name)s, %(title)s, %(timezone)s, %(has_story_codes)s)
ON CONFLICT (name) DO UPDATE
SET title = EXCLUDED.title,
    timezone = EXCLUDED.timezone,
    has_story_codes = EXCLUDED.has_story_codes,
    updated_at = now()
WHERE (s.title, s.timezone, s.has_story_codes)
      IS DISTINCT FROM (EXCLUDED.title, EXCLUDED.timezone, EXCLUDED.has_story_codes);
