#!/usr/bin/python3
"""make_site.py OUT_DIR [--pages N] [--images M] — writes a generated static site for crawl tests.

OUT_DIR/index.html links to every page; page-I.html (I = 0..N-1) links to the
next page and back home and shows M PNG images images/I-J.png, each with its own
size (8+J by 8+I pixels) and colour, so every image has distinct bytes. Every
file is world-readable (a web server running as an unprivileged user can serve
it). Defaults: 40 pages, 5 images. Needs PIL: run it with /usr/bin/python3.
Prints the number of pages and images on stdout; exit status 2 on bad arguments.
"""

import argparse
import os

from PIL import Image


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--pages", type=int, default=40)
    ap.add_argument("--images", type=int, default=5)
    args = ap.parse_args()
    if args.pages < 1 or args.images < 0:
        ap.error("--pages must be >= 1 and --images >= 0")
    os.makedirs(os.path.join(args.out_dir, "images"), exist_ok=True)
    links = "\n".join('<li><a href="page-%d.html">page %d</a></li>' % (i, i) for i in range(args.pages))
    with open(os.path.join(args.out_dir, "index.html"), "w") as f:
        f.write("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Generated site</title></head>\n"
                "<body><ul>\n%s\n</ul></body></html>\n" % links)
    for i in range(args.pages):
        imgs = []
        for j in range(args.images):
            name = "images/%d-%d.png" % (i, j)
            color = ((i * 37 + j * 11) % 256, (i * 7) % 256, (j * 53 + 1) % 256)
            Image.new("RGB", (8 + j, 8 + i), color).save(os.path.join(args.out_dir, name), "PNG")
            imgs.append('<img src="%s" alt="image %d of page %d">' % (name, j, i))
        nxt = '<a href="page-%d.html">next</a>' % (i + 1) if i + 1 < args.pages else ""
        with open(os.path.join(args.out_dir, "page-%d.html" % i), "w") as f:
            f.write("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Page %d</title></head>\n"
                    "<body>\n%s\n<p>%s <a href=\"index.html\">home</a></p></body></html>\n" % (i, "\n".join(imgs), nxt))
    for dirpath, dirnames, filenames in os.walk(args.out_dir):
        os.chmod(dirpath, 0o755)
        for n in filenames:
            os.chmod(os.path.join(dirpath, n), 0o644)
    print("%d pages, %d images" % (args.pages + 1, args.pages * args.images))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
