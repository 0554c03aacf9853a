"""Script payloads for the site's browser test, and a data/ folder that carries them in every field the site renders.

Each payload, if the page ever treated it as markup, a URL or script, would set `window.__pwned` or open a dialog;
tests/test_browser.py watches both. They aim at every context a value can land in: element text, a quoted or
unquoted attribute, a link's href, an inline script or JSON block, a style, Markdown (summaries, abstracts), SVG,
and the search UI's filter labels and result titles. Written for this project, one idea per line.
"""

from __future__ import annotations

import json
from pathlib import Path

RUN = "window.__pwned=1"

PAYLOADS = [
    # element text
    f"<script>{RUN}</script>",
    f"<SCRIPT SRC=data:text/javascript,{RUN}></SCRIPT>",
    f"<img src=x onerror={RUN}>",
    f"<img/src/onerror={RUN}>",
    f"<svg onload={RUN}>",
    f"<svg><script>{RUN}</script></svg>",
    f"<body onload={RUN}>",
    f"<iframe src=javascript:{RUN}></iframe>",
    "<iframe srcdoc='<script>parent.__pwned=1</script>'></iframe>",
    f"<details open ontoggle={RUN}>",
    f"<video><source onerror={RUN}></video>",
    f"<audio src=x onerror={RUN}>",
    f"<input autofocus onfocus={RUN}>",
    f"<marquee onstart={RUN}>m</marquee>",
    f"<object data=javascript:{RUN}></object>",
    f"<embed src=javascript:{RUN}>",
    f"<math><mtext><table><mglyph><style><img src=x onerror={RUN}>",
    f'<noscript><p title="</noscript><img src=x onerror={RUN}>">',
    f"<template><img src=x onerror={RUN}></template><div id=t></div>",
    f"<style>@import 'javascript:{RUN}';</style>",
    f"<link rel=stylesheet href=javascript:{RUN}>",
    f"<meta http-equiv=refresh content='0;url=javascript:{RUN}'>",
    f"<base href=javascript:{RUN}//>",
    f"<form><button formaction=javascript:{RUN}>x</button></form>",
    f"<a href=javascript:{RUN}>click</a>",
    f"<a href=' javascript:{RUN}'>spaced</a>",
    f"<a href=jav&#x09;ascript:{RUN}>tabbed</a>",
    f"<a href=&#106;avascript:{RUN}>entity</a>",
    f"<a href=data:text/html,<script>{RUN}</script>>data</a>",
    f"<a href=vbscript:{RUN}>vb</a>",
    # attribute breaking
    f'" onmouseover="{RUN}" x="',
    f"' onmouseover='{RUN}' x='",
    f'"><img src=x onerror={RUN}>',
    f"'><svg onload={RUN}>",
    f"` onmouseover={RUN} `",
    f"x onmouseover={RUN}",
    f'"autofocus onfocus="{RUN}',
    f'" style="background:url(javascript:{RUN})',
    # script and JSON contexts
    f"</script><script>{RUN}</script>",
    f"\\u003c/script\\u003e<script>{RUN}</script>",
    f"';{RUN};//",
    f'";{RUN};//',
    f"`;{RUN};//",
    f"${{{RUN}}}",
    f"{{{{constructor.constructor('{RUN}')()}}}}",
    f"<!--<script>{RUN}</script>-->",
    f"--><script>{RUN}</script><!--",
    f"]]><script>{RUN}</script>",
    f"<![CDATA[<script>{RUN}</script>]]>",
    # Markdown
    f"[click](javascript:{RUN})",
    f"[click](JAVASCRIPT:{RUN})",
    f"[click](  javascript:{RUN}  )",
    f"[click](java\tscript:{RUN})",
    "[click](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX19wd25lZD0xPC9zY3JpcHQ+)",
    f'![img](x" onerror="{RUN})',
    f"<javascript:{RUN}>",
    f"[ref]\n\n[ref]: javascript:{RUN}",
    f"```html\n<script>{RUN}</script>\n```",
    # encodings and look-alikes
    f"&lt;script&gt;{RUN}&lt;/script&gt;",
    f"%3Cscript%3E{RUN}%3C/script%3E",
    f"\u003cscript\u003e{RUN}\u003c/script\u003e",
    f"＜script＞{RUN}＜/script＞",
    f"<scr<script>ipt>{RUN}</scr</script>ipt>",
    f"<script\x0c>{RUN}</script>",
    "<img src=x onerror=&#119;indow.__pwned=1>",
    "<img src=x onerror=\\u0077indow.__pwned=1>",
]


def _urlish(i: int, payload: str) -> str:
    """A URL an importer could have stored: http(s), with the payload in its path (no whitespace)."""
    return f"https://x{i}.example/" + "".join(payload.split())


def write_hostile_data(root: Path, taxonomy: str) -> Path:
    """data/ under root: one work per payload with it in every field (title, authors, venue, abstract, URLs, ids,
    categories, a tag's evidence), its summary (contributors, x-risk, opinion, body), an author entry (name, alias,
    homepage, affiliation) and the taxonomy's names, descriptions and keywords. `kb validate` refuses much of
    this: the site must be safe from a catalogue built without it."""
    data = root / "data"
    (data / "works").mkdir(parents=True)
    (data / "summaries").mkdir()
    names = {"technique": 0, "motivation": 0}
    lines = []
    for line in taxonomy.splitlines():  # each technique's and motivation's name gets a payload after it
        if line.startswith("name = "):
            kind = "technique" if names["technique"] < taxonomy.count("[[technique]]") else "motivation"
            payload = PAYLOADS[sum(names.values()) % len(PAYLOADS)]
            names[kind] += 1
            line = f"name = {json.dumps(line[8:-1] + ' ' + payload)}"
        elif line.startswith("description = "):
            line = f"description = {json.dumps('Described ' + PAYLOADS[-1 - sum(names.values())])}"
            line += f"\nkeywords = {json.dumps(['hostile', PAYLOADS[sum(names.values())]])}"
        lines.append(line)
    (data / "taxonomy.toml").write_text("\n".join(lines) + "\n")
    works, authors = [], []
    for i, p in enumerate(PAYLOADS):
        work_id = f"hostile-{i:02d}-2024"
        works.append(
            {
                "id": work_id,
                "kind": ("paper", "post", "comment", "report")[i % 4],
                "title": f"Hostile {i} {p}",
                "authors": [f"Mallory{i} {p}", "Shared Author"],
                "year": 2020 + i % 5,
                "venue": f"Venue {p}",
                "abstract": f"Abstract hostile {i}: {p}\n\nSecond paragraph {p}",
                "abstract_source": f"arXiv {p}",
                "curator_note": f"Note {p}",
                "url": _urlish(i, p),
                "urls": {"pdf": _urlish(i, p) + ".pdf"},
                "ids": {
                    "doi": f"10.1234/{i}/" + "".join(p.split()),
                    "arxiv": f"2401.{10000 + i}",  # the model holds arXiv ids to their form: the others are free
                    # each work's own: identifiers are unique, and some schemes ignore case
                    **{scheme: f"{i}{p}" for scheme in ("lesswrong", "openalex", "s2", "openreview", "acl", "scholar")},
                },
                "categories": [p],
                "techniques": [{"slug": "probing", "by": "rule", "confidence": 0.7, "evidence": p}],
                "motivations": [  # both kinds of evidence are rendered: a quote (even works), a reasoning (odd)
                    {"slug": "monitoring", "status": "stated", "by": "curator", "quote": p, "where": "abstract"}
                    if i % 2 == 0
                    else {"slug": "monitoring", "status": "inferred", "by": "model", "confidence": 0.6, "reasoning": p}
                ],
                "relations": [{"type": "discusses", "target": f"hostile-{(i + 1) % len(PAYLOADS):02d}-2024"}],
            }
        )
        authors.append(
            {
                "id": f"mallory{i}",
                "name": f"Mallory{i} {p}",
                "aliases": [f"M{i} {p}"],
                "homepage": _urlish(i, p),
                "affiliation": f"Lab {p}",
                "lesswrong": p,
            }
        )
        (data / "summaries" / f"{work_id}.md").write_text(
            "---\n"
            + json.dumps(
                {
                    "work": work_id,
                    "status": "reviewed",
                    "contributors": [p],
                    "motivations": ["monitoring"],
                    "xrisk": f"Why {p}",
                    "opinion": f"Opinion {p}",
                }
            )
            + f"\n---\n\nBody {i} {p}\n\n- item {p}\n\n> quote {p}\n"
        )
    for kind in ("paper", "post", "comment", "report"):
        chosen = [w for w in works if w["kind"] == kind]
        (data / "works" / f"{kind}s.jsonl").write_text("".join(json.dumps(w) + "\n" for w in chosen))
    (data / "authors.jsonl").write_text("".join(json.dumps(a) + "\n" for a in authors))
    return data


def write_hostile_results(root: Path, technique: str = "probing") -> Path:
    """results/ under root: one methods result on `technique`'s page with a payload in every field it shows."""
    folder = root / "results" / "hostile"
    folder.mkdir(parents=True)
    (folder / "figure.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
    run = {key: PAYLOADS[i] for i, key in enumerate(("model", "pooling", "model_note", "rerun", "finished"))}
    claims = [{"text": p, "verdict": "inconclusive", "evidence": PAYLOADS[-1 - i]} for i, p in enumerate(PAYLOADS[:12])]
    result = {
        "experiment": "hostile",
        "title": f"Result {PAYLOADS[5]}",
        "techniques": [technique],
        "works": ["hostile-00-2024"],
        "run": {**run, "layer": 4, "seed_values": [0, 1]},
        "claims": claims,
        "figures": [{"path": "figure.svg", "caption": PAYLOADS[6]}],
    }
    (folder / "result.json").write_text(json.dumps(result))
    return root / "results"
