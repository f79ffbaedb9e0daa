"""Prairie Courier: a WordPress site, as a classic theme with Jetpack prints it, and its feeds.

The page is WordPress's own markup: `article.post > div.entry-content` with block-editor classes
(wp-block-quote, wp-block-image), an hAtom entry header (`time.entry-date.published`,
`time.updated` once a post has been edited, the byline as an hCard `span.author.vcard > a.fn`),
no JSON-LD and no OpenGraph. Jetpack's share buttons and related posts sit inside the entry content,
the comments (with their own hCards and times) and a Recent Posts widget after it. Feeds are
WordPress's RSS 2.0 with the full post in content:encoded and dc:creator, at /feed/ and, for a
day's archive, /YYYY/MM/DD/feed/. Prairie Courier has no story codes: a post is its permalink.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from html import escape

from news_etl.sample_sites import text
from news_etl.sample_sites.publishers import PUBLISHERS, SampleArticle, live_feed_path
from news_etl.sample_sites.render import MONTHS, PIXEL, http_date, join_names

WP_VERSION = "6.4.3"
_POST_ID_EPOCH = date(2000, 1, 1)


def post_id(article: SampleArticle) -> int:
    """WordPress's numeric id of the post (its shortlink ?p=ID and its CSS classes)."""
    day = article.published_at.date()
    index = int(article.published_at.strftime("%H%M"))  # unique within the day
    return 1000 + (day - _POST_ID_EPOCH).days * 2400 + index


def post_page(base_url: str, article: SampleArticle, others: list[SampleArticle], now: datetime) -> str:
    home = f"{base_url}/{article.publisher}/"
    permalink = base_url + article.path
    name = PUBLISHERS[article.publisher].name
    pid = post_id(article)
    category = article.section.lower()
    return f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="profile" href="https://gmpg.org/xfn/11">
<title>{escape(article.title)} &#8211; {escape(name)}</title>
<meta name='robots' content='max-image-preview:large' />
<link rel="alternate" type="application/rss+xml" title="{escape(name)} &raquo; Feed" href="{escape(base_url + live_feed_path(article.publisher))}" />
<link rel="alternate" type="application/rss+xml" title="{escape(name)} &raquo; {escape(article.title)} Comments Feed" href="{escape(permalink)}feed/" />
<link rel='stylesheet' id='wp-block-library-css' href='{escape(home)}wp-includes/css/dist/block-library/style.min.css?ver={WP_VERSION}' media='all' />
<link rel='stylesheet' id='courier-style-css' href='{escape(home)}wp-content/themes/courier/style.css?ver=1.4' media='all' />
<script src="{escape(home)}wp-includes/js/jquery/jquery.min.js?ver=3.7.1" id="jquery-core-js"></script>
<link rel="https://api.w.org/" href="{escape(home)}wp-json/" />
<link rel="EditURI" type="application/rsd+xml" title="RSD" href="{escape(home)}xmlrpc.php?rsd" />
<meta name="generator" content="WordPress {WP_VERSION}" />
<link rel="canonical" href="{escape(permalink)}" />
<link rel='shortlink' href='{escape(home)}?p={pid}' />
</head>
<body class="post-template-default single single-post postid-{pid} single-format-standard wp-embed-responsive">
<div id="page" class="site">
<a class="skip-link screen-reader-text" href="#content">Skip to content</a>
<header id="masthead" class="site-header">
<div class="site-branding">
<p class="site-title"><a href="{escape(home)}" rel="home">{escape(name)}</a></p>
<p class="site-description">News from across the plains</p>
</div>
<nav id="site-navigation" class="main-navigation">
<ul id="primary-menu" class="menu">{_menu(home)}</ul>
</nav>
</header>
<div id="content" class="site-content">
<div id="primary" class="content-area">
<main id="main" class="site-main">
<article id="post-{pid}" class="post-{pid} post type-post status-publish format-standard has-post-thumbnail hentry category-{escape(category)}">
<header class="entry-header">
<h1 class="entry-title">{escape(article.title)}</h1>
<div class="entry-meta">
<span class="posted-on">Posted on <a href="{escape(permalink)}" rel="bookmark">{_entry_dates(article)}</a></span>
<span class="byline"> by {_bylines(home, article.authors)}</span>
</div>
</header>
<div class="post-thumbnail"><img width="1200" height="675" src="{PIXEL}" class="attachment-post-thumbnail size-post-thumbnail wp-post-image" alt="" decoding="async" /></div>
<div class="entry-content">
{_entry_content(base_url, article, others)}
</div>
<footer class="entry-footer"><span class="cat-links">Posted in <a href="{escape(home)}category/{escape(category)}/" rel="category tag">{escape(article.section)}</a></span></footer>
</article>
{_post_navigation(base_url, article, others)}
{_comments(article, now)}
</main>
</div>
<aside id="secondary" class="widget-area">
<section id="recent-posts-2" class="widget widget_recent_entries">
<h2 class="widget-title">Recent Posts</h2>
<ul>
{_recent_posts(base_url, others[:5])}
</ul>
</section>
<section id="archives-2" class="widget widget_archive"><h2 class="widget-title">Archives</h2>
<ul><li><a href="{escape(home)}{article.published_at:%Y/%m}/">{MONTHS[article.published_at.month - 1]} {article.published_at.year}</a></li></ul>
</section>
</aside>
</div>
<footer id="colophon" class="site-footer">
<div class="site-info"><a href="https://wordpress.org/">Proudly powered by WordPress</a> | Theme: Courier</div>
</footer>
</div>
<script src="{escape(home)}wp-content/plugins/jetpack/_inc/build/sharedaddy/sharing.min.js?ver=13.1" id="sharing-js-js"></script>
</body>
</html>
"""


def feed(base_url: str, publisher: str, articles: list[SampleArticle], self_path: str, updated: datetime) -> str:
    """WordPress's RSS 2.0: full text in content:encoded, authors in dc:creator, dates in GMT."""
    home = f"{base_url}/{publisher}/"
    name = PUBLISHERS[publisher].name
    items = "\n".join(_feed_item(base_url, a) for a in articles)
    return f"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"
	xmlns:content="http://purl.org/rss/1.0/modules/content/"
	xmlns:wfw="http://wellformedweb.org/CommentAPI/"
	xmlns:dc="http://purl.org/dc/elements/1.1/"
	xmlns:atom="http://www.w3.org/2005/Atom"
	xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"
	xmlns:slash="http://purl.org/rss/1.0/modules/slash/"
	>

<channel>
	<title>{escape(name)}</title>
	<atom:link href="{escape(base_url + self_path)}" rel="self" type="application/rss+xml" />
	<link>{escape(home)}</link>
	<description>News from across the plains</description>
	<lastBuildDate>{_gmt(updated)}</lastBuildDate>
	<language>en-US</language>
	<sy:updatePeriod>
	hourly	</sy:updatePeriod>
	<sy:updateFrequency>
	1	</sy:updateFrequency>
	<generator>https://wordpress.org/?v={WP_VERSION}</generator>
{items}
</channel>
</rss>
"""


def _feed_item(base_url: str, article: SampleArticle) -> str:
    permalink = base_url + article.path
    creators = "\n".join(f"\t\t<dc:creator><![CDATA[{name}]]></dc:creator>" for name in article.authors)
    content = "\n".join(_paragraph_block(p) for p in article.paragraphs)
    excerpt = _excerpt(article)
    return f"""	<item>
		<title>{escape(article.title)}</title>
		<link>{escape(permalink)}</link>
		<comments>{escape(permalink)}#respond</comments>
{creators}
		<pubDate>{_gmt(article.published_at)}</pubDate>
		<category><![CDATA[{article.section}]]></category>
		<guid isPermaLink="false">{escape(base_url)}/{escape(article.publisher)}/?p={post_id(article)}</guid>
		<description><![CDATA[{excerpt}]]></description>
		<content:encoded><![CDATA[{content}]]></content:encoded>
		<wfw:commentRss>{escape(permalink)}feed/</wfw:commentRss>
		<slash:comments>0</slash:comments>
	</item>"""


def _gmt(moment: datetime) -> str:
    """WordPress writes feed dates in GMT as '+0000'."""
    return http_date(moment).replace(" GMT", " +0000")


def _excerpt(article: SampleArticle, words: int = 55) -> str:
    """WordPress's automatic excerpt: the first 55 words and a bracketed ellipsis."""
    all_words = article.body.split()
    cut = " ".join(all_words[:words])
    return escape(cut) + (" [&#8230;]" if len(all_words) > words else "")


# --- page parts ---

def _menu(home: str) -> str:
    items = ("Politics", "Economy", "Environment", "Sport", "Health", "Culture")
    return "".join(
        f'<li id="menu-item-{100 + i}" class="menu-item menu-item-type-taxonomy menu-item-object-category">'
        f'<a href="{escape(home)}category/{name.lower()}/">{name}</a></li>'
        for i, name in enumerate(items)
    )


def _entry_dates(article: SampleArticle) -> str:
    """One <time> when the post was never edited; else the published and the updated time."""
    published = article.published_at
    if article.updated_at is None:
        return (f'<time class="entry-date published updated" datetime="{published.isoformat()}">'
                f"{_long_date(published)}</time>")
    updated = article.updated_at
    return (f'<time class="entry-date published" datetime="{published.isoformat()}">{_long_date(published)}</time>'
            f'<time class="updated" datetime="{updated.isoformat()}">{_long_date(updated)}</time>')


def _long_date(moment: datetime) -> str:
    """'March 1, 2024' (WordPress's default date format)."""
    return f"{MONTHS[moment.month - 1]} {moment.day}, {moment.year}"


def _bylines(home: str, authors: tuple[str, ...]) -> str:
    """Co-Authors Plus prints one hCard per author."""
    cards = [
        f'<span class="author vcard"><a class="url fn n" href="{escape(home)}author/{text.slugify(name)}/">'
        f"{escape(name)}</a></span>"
        for name in authors
    ]
    return join_names(cards)


def _paragraph_block(paragraph: str) -> str:
    if text.is_quote(paragraph):
        return f'<blockquote class="wp-block-quote"><p>{escape(paragraph)}</p></blockquote>'
    return f"<p>{escape(paragraph)}</p>"


def _entry_content(base_url: str, article: SampleArticle, others: list[SampleArticle]) -> str:
    """The post's blocks, with an image after the first paragraph, then Jetpack's share buttons
    and related posts, which WordPress plugins append to the content itself."""
    rng = random.Random(f"wp-image:{article.path}")
    caption = text.photo_caption(rng, article.published_at.weekday())
    figure = (f'<figure class="wp-block-image size-large"><img decoding="async" width="1024" height="576" '
              f'src="{PIXEL}" alt="" class="wp-image-{post_id(article) + 1}"/>'
              f'<figcaption class="wp-element-caption">{escape(caption)}</figcaption></figure>')
    blocks = []
    for index, paragraph in enumerate(article.paragraphs):
        blocks.append(_paragraph_block(paragraph))
        if index == 0:
            blocks.append(figure)
    home = f"{base_url}/{article.publisher}/"
    share = ('<div class="sharedaddy sd-sharing-enabled"><div class="robots-nocontent sd-block sd-social '
             'sd-social-icon-text sd-sharing"><h3 class="sd-title">Share this:</h3><div class="sd-content"><ul>'
             f'<li class="share-facebook"><a rel="nofollow noopener noreferrer" class="share-facebook sd-button" '
             f'href="{escape(base_url + article.path)}?share=facebook" target="_blank"><span>Facebook</span></a></li>'
             f'<li class="share-email"><a rel="nofollow noopener noreferrer" class="share-email sd-button" '
             f'href="mailto:?subject={escape(article.title)}"><span>Email</span></a></li>'
             '</ul></div></div></div>')
    related = "\n".join(
        f'<div class="jp-relatedposts-post"><h4 class="jp-relatedposts-post-title">'
        f'<a class="jp-relatedposts-post-a" href="{escape(base_url + other.path)}">{escape(other.title)}</a></h4>'
        f'<p class="jp-relatedposts-post-date">{_long_date(other.published_at)}</p>'
        f'<p class="jp-relatedposts-post-context">In &quot;{escape(other.section)}&quot;</p></div>'
        for other in others[:3]
    )
    like = (f'<div class="sharedaddy sd-block sd-like jetpack-likes-widget-wrapper" id="like-post-wrapper">'
            f'<h3 class="sd-title">Like this:</h3><span class="sd-text-color"></span>'
            f'<a class="sd-link-color" href="{escape(home)}wp-login.php">Like</a> Loading...</div>')
    jetpack = (f'{share}\n{like}\n<div id="jp-relatedposts" class="jp-relatedposts">'
               f'<h3 class="jp-relatedposts-headline"><em>Related</em></h3>\n{related}\n</div>')
    return "\n".join(blocks) + "\n" + jetpack


def _post_navigation(base_url: str, article: SampleArticle, others: list[SampleArticle]) -> str:
    previous = next((o for o in others if o.published_at < article.published_at), None)
    if previous is None:
        return ""
    return ('<nav class="navigation post-navigation" aria-label="Posts"><h2 class="screen-reader-text">'
            'Post navigation</h2><div class="nav-links"><div class="nav-previous">'
            f'<a href="{escape(base_url + previous.path)}" rel="prev"><span class="meta-nav">Previous Post</span> '
            f'<span class="post-title">{escape(previous.title)}</span></a></div></div></nav>')


def _comments(article: SampleArticle, now: datetime) -> str:
    """Readers' comments that exist at `now`, then the reply form."""
    rng = random.Random(f"wp-comments:{article.path}")
    comments = text.reader_comments(rng, rng.randint(1, 3))
    delays = sorted(rng.randint(15, 900) for _ in comments)
    items = []
    for number, ((commenter, comment), delay) in enumerate(zip(comments, delays), start=1):
        posted = article.published_at + timedelta(minutes=delay)
        if posted > now:
            continue
        cid = post_id(article) * 10 + number
        hour = posted.hour % 12 or 12
        when = f"{_long_date(posted)} at {hour}:{posted:%M} {'am' if posted.hour < 12 else 'pm'}"
        items.append(
            f'<li id="comment-{cid}" class="comment even thread-even depth-1">'
            f'<article id="div-comment-{cid}" class="comment-body"><footer class="comment-meta">'
            f'<div class="comment-author vcard"><img alt="" src="{PIXEL}" class="avatar avatar-60 photo" height="60" '
            f'width="60" decoding="async"/><b class="fn">{escape(commenter)}</b> <span class="says">says:</span></div>'
            f'<div class="comment-metadata"><a href="#comment-{cid}"><time datetime="{posted.isoformat()}">'
            f"{escape(when)}</time></a></div></footer>"
            f'<div class="comment-content"><p>{escape(comment)}</p></div></article></li>'
        )
    title = (f'<h2 class="comments-title">{len(items)} thoughts on &ldquo;<span>{escape(article.title)}</span>'
             "&rdquo;</h2>" if items else "")
    return f"""<div id="comments" class="comments-area">
{title}
<ol class="comment-list">
{chr(10).join(items)}
</ol>
<div id="respond" class="comment-respond">
<h3 id="reply-title" class="comment-reply-title">Leave a Reply</h3>
<form action="/wp-comments-post.php" method="post" id="commentform" class="comment-form">
<p class="comment-notes"><span id="email-notes">Your email address will not be published.</span> Required fields are marked <span class="required">*</span></p>
<p class="comment-form-comment"><label for="comment">Comment <span class="required">*</span></label> <textarea id="comment" name="comment" cols="45" rows="8" maxlength="65525" required></textarea></p>
<p class="form-submit"><input name="submit" type="submit" id="submit" class="submit" value="Post Comment" /></p>
</form>
</div>
</div>"""


def _recent_posts(base_url: str, others: list[SampleArticle]) -> str:
    return "\n".join(
        f'<li><a href="{escape(base_url + other.path)}">{escape(other.title)}</a> '
        f'<span class="post-date">{_long_date(other.published_at)}</span></li>'
        for other in others
    )
