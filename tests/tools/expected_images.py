#!/usr/bin/python3
"""expected_images.py SITE_ROOT BASE_URL — the catalog a crawl of a static site should produce.

Computed independently of Kestrel's code (Python's html.parser, urllib.parse,
PIL, hashlib) so that the integration tests compare the crawler against a second
opinion, not against itself. Run it with /usr/bin/python3 (Debian's, with PIL).

SITE_ROOT is the folder a static web server (nginx, tests' FixtureHttpServer)
serves at BASE_URL, e.g. /usr/share/gimp/2.0/help/en and http://127.0.0.1:8080/.

The walk: breadth-first from BASE_URL over same-origin <a href> links, no depth
limit, fragments dropped. Each page's references are resolved against its first
<base href> (itself resolved against the page URL) or else the page URL. Images
are collected from img[src], every candidate of img[srcset], source[srcset]
inside <picture>, and meta[property=og:image] content.

Assumptions (kept simple on purpose; a test site that breaks them is out of scope):
  - The server maps a URL path to a file: percent-decoded (UTF-8) path below
    SITE_ROOT; a path ending in "/" serves its index.html; a folder without the
    trailing slash redirects to it (nginx does so). The query string is ignored
    by the server but is part of the URL's identity.
  - A page is a file ending in .html, .htm or .shtml (what nginx serves as
    text/html); other link targets are listed in "other_links", not parsed.
  - URL normalization as a browser does it (WHATWG URL): tabs and newlines
    removed, a backslash read as "/", scheme and host lower case, default port
    dropped, dot segments removed, characters of the path
    percent-encode set (controls, space, ", <, >, `, {, }, non-ASCII as UTF-8)
    percent-encoded, existing %XX escapes left as written, fragment dropped.
  - Images on another origin and data: URLs are not expected in the catalog
    (listed in "external" for information).
  - An image file that PIL cannot identify, or whose format is not png, jpeg,
    gif or webp, is listed in "invalid" with the reason.

Output, JSON on stdout (keys sorted, lists in walk order):
  {"seed": url,
   "pages": [url, ...],                        # HTML pages reached, walk order
   "images": {url: {"format", "width", "height", "sha256", "md5",
                    "size" (bytes), "filename", "file", "source"}},
   "broken": [{"url", "source"}],              # image URLs with no file
   "invalid": [{"url", "source", "reason"}],   # image files that are not a catalogued format
   "broken_links": [{"url", "source"}],        # same-origin a[href] with no file
   "other_links": [url, ...],                  # same-origin non-HTML link targets
   "external": [url, ...]}                     # images on other origins or data: URLs
"source" is the first page (in walk order) that referenced the URL.
Exit status: 0 on success, 2 on bad arguments (with a message on stderr).
"""

import collections
import hashlib
import html.parser
import json
import os
import re
import sys
import urllib.parse

from PIL import Image

PAGE_SUFFIXES = (".html", ".htm", ".shtml")
FORMATS = {"PNG": "png", "JPEG": "jpeg", "GIF": "gif", "WEBP": "webp"}
DEFAULT_PORTS = {"http": 80, "https": 443}
# WHATWG path percent-encode set, minus "?" and "#" which urljoin already split off.
PATH_ENCODE = set(' "<>`{}')
QUERY_ENCODE = set(" \"<>'")
ASCII_WS = " \t\n\f\r"


def encode_set(text, chars):
    """Percent-encodes controls, non-ASCII (as UTF-8) and `chars`; keeps %XX as written."""
    out = []
    for ch in text:
        if ord(ch) < 0x21 and ch != " " or ord(ch) == 0x7F or ord(ch) > 0x7E or ch in chars:
            out.append("".join("%%%02X" % b for b in ch.encode("utf-8")))
        else:
            out.append(ch)
    return "".join(out)


def normalize(url):
    """Returns the URL as a browser would request it, without fragment, or None if not http(s)."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        return None
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port is None or port == DEFAULT_PORTS[scheme] else "%s:%d" % (host, port)
    path = encode_set(parts.path or "/", PATH_ENCODE)
    query = encode_set(parts.query, QUERY_ENCODE)
    return urllib.parse.urlunsplit((scheme, netloc, path, query, ""))


def resolve(base, ref):
    """Resolves `ref` (stripped of ASCII whitespace) against `base`; None for empty or non-http(s)."""
    ref = ref.strip(ASCII_WS)
    ref = ref.replace("\t", "").replace("\n", "").replace("\r", "")  # browsers drop these inside URLs
    if not ref or ref.lower().startswith(("data:", "javascript:", "mailto:")):
        return None
    if "://" not in ref.split("?", 1)[0].split("#", 1)[0]:
        ref = ref.replace("\\", "/")  # in http(s) URLs a backslash is a slash (WHATWG URL)
    return normalize(urllib.parse.urljoin(base, ref))


def origin(url):
    p = urllib.parse.urlsplit(url)
    return (p.scheme, p.hostname, p.port or DEFAULT_PORTS.get(p.scheme))


def srcset_urls(value):
    """The URL of every candidate of a srcset attribute (HTML's parsing algorithm, simplified:
    descriptors are skipped up to the next comma outside parentheses)."""
    urls, i, n = [], 0, len(value)
    while i < n:
        while i < n and (value[i] in ASCII_WS or value[i] == ","):
            i += 1
        start = i
        while i < n and value[i] not in ASCII_WS:
            i += 1
        url = value[start:i]
        if not url:
            break
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            depth = 0
            while i < n and (depth > 0 or value[i] != ","):
                depth += value[i] == "("
                depth -= value[i] == ")" and depth > 0
                i += 1
        if url:
            urls.append(url)
    return urls


CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
CSS_URL = re.compile(r"""(?<![\w-])url\(\s*(?:"([^"]*)"|'([^']*)'|([^\s"'()]*))\s*\)""", re.I)
# Not images: @font-face blocks (fonts; their descriptors hold no nested braces) and the
# preludes of @import / @namespace (stylesheets, namespaces).
CSS_NOT_IMAGES = re.compile(r"@font-face\s*\{[^}]*\}|@(?:import|namespace)\b[^;{]*;?", re.I)


def css_urls(text):
    """url() references of images in CSS text (comments, @font-face blocks and @import/@namespace
    dropped; regexes, independent of the crawler's tokenizer)."""
    out = []
    for m in CSS_URL.finditer(CSS_NOT_IMAGES.sub("", CSS_COMMENT.sub("", text))):
        url = next(g for g in m.groups() if g is not None).strip()
        if url:
            out.append(url)
    return out


class PageParser(html.parser.HTMLParser):
    """Collects the raw link and image references of one page, and its first base href."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.base = None
        self.links = []
        self.images = []
        self.picture_depth = 0
        self.stylesheets = []
        self.in_style = False

    def handle_starttag(self, tag, attrs):
        a = {}
        for k, v in attrs:
            a.setdefault(k, v if v is not None else "")
        if "style" in a:
            self.images.extend(css_urls(a["style"]))
        if tag == "link" and "href" in a and "stylesheet" in a.get("rel", "").lower().split():
            self.stylesheets.append(a["href"])
        if tag == "style":
            self.in_style = True
        if tag == "base" and self.base is None and "href" in a:
            self.base = a["href"]
        elif tag == "a" and "href" in a:
            self.links.append(a["href"])
        elif tag == "img":
            if "src" in a:
                self.images.append(a["src"])
            if "srcset" in a:
                self.images.extend(srcset_urls(a["srcset"]))
        elif tag == "picture":
            self.picture_depth += 1
        elif tag == "source" and self.picture_depth > 0 and "srcset" in a:
            self.images.extend(srcset_urls(a["srcset"]))
        elif tag == "meta" and a.get("property", "").strip().lower() == "og:image" and "content" in a:
            self.images.append(a["content"])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag == "picture":
            self.picture_depth -= 1

    def handle_data(self, data):
        if self.in_style:
            self.images.extend(css_urls(data))

    def handle_endtag(self, tag):
        if tag == "style":
            self.in_style = False
        if tag == "picture" and self.picture_depth > 0:
            self.picture_depth -= 1


class Site:
    """Maps URLs of the seed's origin to files under the root."""

    def __init__(self, root, seed):
        self.root = os.path.realpath(root)
        self.seed = seed
        self.origin = origin(seed)
        self.base_path = urllib.parse.urlsplit(seed).path
        if not self.base_path.endswith("/"):
            self.base_path = self.base_path.rsplit("/", 1)[0] + "/"

    def file_for(self, url):
        """(kind, path, url) where kind is 'file', 'missing' or 'redirect' (url: its target)."""
        path = urllib.parse.urlsplit(url).path
        if not path.startswith(self.base_path):
            return "missing", None, url
        rel = urllib.parse.unquote(path[len(self.base_path):], encoding="utf-8", errors="strict")
        full = os.path.realpath(os.path.join(self.root, rel))
        if full != self.root and not full.startswith(self.root + os.sep):
            return "missing", None, url
        if os.path.isdir(full):
            if not path.endswith("/"):
                p = urllib.parse.urlsplit(url)
                return "redirect", None, urllib.parse.urlunsplit(p._replace(path=p.path + "/"))
            full = os.path.join(full, "index.html")
        return ("file", full, url) if os.path.isfile(full) else ("missing", None, url)


def describe_image(path):
    """The catalog fields of an image file, or (None, reason) if it is not a catalogued format."""
    try:
        with Image.open(path) as im:
            fmt = FORMATS.get(im.format)
            if fmt is None:
                return None, "format %s is not png, jpeg, gif or webp" % im.format
            width, height = im.size
    except Exception as e:  # PIL raises several types for unreadable files
        return None, "not an image PIL can read: %s" % e
    with open(path, "rb") as f:
        data = f.read()
    return {
        "format": fmt,
        "width": width,
        "height": height,
        "sha256": hashlib.sha256(data).hexdigest(),
        "md5": hashlib.md5(data).hexdigest(),
        "size": len(data),
    }, None


def read_text(path):
    with open(path, "rb") as f:
        data = f.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def crawl(root, base_url):
    seed = normalize(base_url)
    if seed is None:
        raise ValueError("BASE_URL '%s' is not an absolute http(s) URL" % base_url)
    site = Site(root, seed)
    pages, other_links, broken_links, external = [], [], [], []
    image_source = collections.OrderedDict()  # image url -> first page
    seen = {seed}
    queue = collections.deque([seed])
    while queue:
        url = queue.popleft()
        kind, path, target = site.file_for(url)
        if kind == "redirect":
            if target not in seen:
                seen.add(target)
                queue.append(target)
            continue
        if kind == "missing":
            continue  # reported as a broken link by the page that named it
        if not path.endswith(PAGE_SUFFIXES):
            other_links.append(url)
            continue
        pages.append(url)
        parser = PageParser()
        parser.feed(read_text(path))
        parser.close()
        base = url
        if parser.base is not None:
            base = resolve(url, parser.base) or url
        for ref in parser.links:
            link = resolve(base, ref)
            if link is None or origin(link) != site.origin or link in seen:
                continue
            seen.add(link)
            if site.file_for(link)[0] == "missing":
                broken_links.append({"url": link, "source": url})
            else:
                queue.append(link)
        refs = [(base, ref) for ref in parser.images]
        for sheet_ref in parser.stylesheets:
            sheet = resolve(base, sheet_ref)
            if sheet is None or origin(sheet) != site.origin:
                continue
            kind, sheet_path, _ = site.file_for(sheet)
            if kind == "file":
                refs.extend((sheet, ref) for ref in css_urls(read_text(sheet_path)))
        for ref_base, ref in refs:
            img = resolve(ref_base, ref)
            if img is None:
                if ref.strip(ASCII_WS).lower().startswith("data:") and "data:" not in external:
                    external.append("data:")
                continue
            if origin(img) != site.origin:
                if img not in external:
                    external.append(img)
                continue
            image_source.setdefault(img, url)

    images, broken, invalid = {}, [], []
    for img, source in image_source.items():
        kind, path, _ = site.file_for(img)
        if kind != "file":
            broken.append({"url": img, "source": source})
            continue
        info, reason = describe_image(path)
        if info is None:
            invalid.append({"url": img, "source": source, "reason": reason})
            continue
        info["source"] = source
        info["file"] = os.path.relpath(path, site.root)
        info["filename"] = urllib.parse.unquote(urllib.parse.urlsplit(img).path.rsplit("/", 1)[-1])
        images[img] = info
    return {
        "seed": seed,
        "pages": pages,
        "images": images,
        "broken": broken,
        "invalid": invalid,
        "broken_links": broken_links,
        "other_links": other_links,
        "external": external,
    }


def main(argv):
    if len(argv) != 3:
        print("usage: expected_images.py SITE_ROOT BASE_URL", file=sys.stderr)
        return 2
    root, base_url = argv[1], argv[2]
    if not os.path.isdir(root):
        print("expected_images.py: SITE_ROOT '%s' is not a folder" % root, file=sys.stderr)
        return 2
    try:
        result = crawl(root, base_url)
    except ValueError as e:
        print("expected_images.py: %s" % e, file=sys.stderr)
        return 2
    json.dump(result, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
