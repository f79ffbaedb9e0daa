-- Clusters that one article now joins become one: the members of each cluster in
-- %(merge_from)s move to the cluster beside it in %(merge_into)s (the oldest of the component),
-- and the emptied clusters go. apply_story_clusters.sql then brings the summaries up to date.
UPDATE news.story_member m SET cluster_id = g.into_id
FROM unnest(%(merge_from)s::bigint[], %(merge_into)s::bigint[]) AS g (cluster_id, into_id)
WHERE m.cluster_id = g.cluster_id;
DELETE FROM news.story_cluster WHERE cluster_id = ANY (%(merge_from)s::bigint[]);

