-- 0041: URLs in w3lib's canonical form (news_etl.urls.normalize_url): one spelling of a path raw
-- or percent-encoded, with dot segments or escaped unreserved characters, and of an IDN host.
-- After this file, warehouse.reidentify_articles (a step of this migration, in its transaction)
-- recomputes every stored URL and URL identity in that form. Articles that were one story under
-- two spellings become one: the first published (then the first loaded) is kept, and each other
-- is recorded here, then removed with its versions, mentions and story membership. Its raw pages
-- stay in the archive.
CREATE TABLE news.identity_merge (
    source_id            int NOT NULL REFERENCES news.source,
    identity             text NOT NULL,   -- the identity both had from now on
    kept_article_id      bigint NOT NULL,
    dropped_article_id   bigint NOT NULL,
    dropped_identity     text NOT NULL,
    dropped_url          text NOT NULL,
    dropped_title        text NOT NULL,
    dropped_content_hash text NOT NULL,
    merged_at            timestamptz NOT NULL DEFAULT now()
);
