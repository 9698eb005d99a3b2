#!/usr/bin/python3
"""scrapy_images.py SEED_URL OUT_DIR — Scrapy's side of bench/crawl.

A plain Scrapy crawl, configured as a Scrapy user would for this job: start at
SEED_URL, follow every a[href] on the same origin (scheme, host, port), and
hand every img[src], img[srcset] and picture source[srcset] URL of the same
origin to Scrapy's stock ImagesPipeline, which downloads each image once per
run and stores it as OUT_DIR/full/<sha1 of URL>.jpg (the pipeline re-encodes
every image as JPEG with PIL; that is its documented behaviour, not ours).

Settings (the benchmark's contract, see bench/README.md): CONCURRENT_REQUESTS
and CONCURRENT_REQUESTS_PER_DOMAIN 16 (the per-domain default, 8, would halve
Scrapy's parallelism against one host), ROBOTSTXT_OBEY False, no download
delay, no AutoThrottle, no HTTP cache, LOG_LEVEL WARNING.

Prints one JSON line on stdout at the end: {"pages": N, "image_urls": N}
(pages parsed and distinct image URLs handed to the pipeline).
Run it with Debian's /usr/bin/python3 (python3-scrapy, python3-pil).
Exit status: 0 when the crawl finished, 2 on bad arguments.
"""

import json
import sys
import urllib.parse

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.http import HtmlResponse


def origin(url):
    """Returns (scheme, host, port) of an http(s) URL, default ports made explicit."""
    p = urllib.parse.urlsplit(url)
    port = p.port or {"http": 80, "https": 443}.get(p.scheme)
    return p.scheme, (p.hostname or "").lower(), port


def srcset_urls(value):
    """Returns the URL of each candidate of a srcset attribute (HTML: comma-separated "URL [descriptor]")."""
    out = []
    for candidate in value.split(","):
        parts = candidate.strip().split()
        if parts:
            out.append(parts[0])
    return out


class ImagesSpider(scrapy.Spider):
    """Follows same-origin links from the seed and yields each page's image URLs as one item."""

    name = "bench_images"

    def __init__(self, seed, **kwargs):
        super().__init__(**kwargs)
        self.start_urls = [seed]
        self.site = origin(seed)
        self.pages = 0
        self.image_urls = set()

    def parse(self, response):
        if not isinstance(response, HtmlResponse):
            return
        self.pages += 1
        refs = response.css("img::attr(src)").getall()
        for value in response.css("img::attr(srcset), picture source::attr(srcset)").getall():
            refs.extend(srcset_urls(value))
        images = []
        for ref in refs:
            url = urllib.parse.urldefrag(response.urljoin(ref.strip()))[0]
            if origin(url) == self.site and url not in self.image_urls:
                self.image_urls.add(url)
                images.append(url)
        if images:
            yield {"image_urls": images}
        for href in response.css("a::attr(href)").getall():
            url = urllib.parse.urldefrag(response.urljoin(href.strip()))[0]
            if url.startswith(("http://", "https://")) and origin(url) == self.site:
                yield scrapy.Request(url, callback=self.parse)


def main(argv):
    if len(argv) != 3:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    seed, out_dir = argv[1], argv[2]
    process = CrawlerProcess(settings={
        "CONCURRENT_REQUESTS": 16,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
        "ROBOTSTXT_OBEY": False,
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "HTTPCACHE_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "ITEM_PIPELINES": {"scrapy.pipelines.images.ImagesPipeline": 1},
        "IMAGES_STORE": out_dir,
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
    })
    crawler = process.create_crawler(ImagesSpider)
    process.crawl(crawler, seed=seed)
    process.start()
    spider = crawler.spider
    print(json.dumps({"pages": spider.pages, "image_urls": len(spider.image_urls)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
