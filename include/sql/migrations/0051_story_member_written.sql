-- 0051: the order in which story members were written, so that a load looks for its articles'
-- candidates before it takes the story clusters' lock, side by side with other loads, and under
-- the lock only among the members written since (load/story_candidates_since.sql). Members are
-- written only under that lock, and each writer's commit is visible before it lets the lock go:
-- the members any snapshot sees are those written up to some number, and every later one is
-- written by a load that held the lock after it.
CREATE SEQUENCE news.story_member_written_seq;
ALTER TABLE news.story_member ADD COLUMN written bigint NOT NULL DEFAULT nextval('news.story_member_written_seq');
ALTER SEQUENCE news.story_member_written_seq OWNED BY news.story_member.written;
CREATE INDEX story_member_written ON news.story_member (written);
