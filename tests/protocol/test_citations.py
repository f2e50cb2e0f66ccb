"""Code and docs cite only files inside the repository: every `docs/...md` named exists, nothing outside."""
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SOURCES = [p for folder in ("pos", "acquirer", "drivers", "receipts", "tests", "docs", "config")
           for p in (REPO / folder).rglob("*") if p.suffix in (".py", ".md", ".toml")] + [REPO / "README.md"]
OUTSIDE = re.compile(r"DESIGN\.md|shared[/]reference|clearing-and-ecr\.md|(?<![\w-])(payments|devices)\.md")


def test_no_citation_of_a_file_outside_the_repository():
    found = [f"{p.relative_to(REPO)}:{n}" for p in SOURCES if p != Path(__file__)
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if OUTSIDE.search(line)]
    assert found == []


def test_every_docs_file_cited_exists():
    cited = {m for p in SOURCES for m in re.findall(r"docs/([\w-]+\.md)", p.read_text(encoding="utf-8"))}
    assert {"payment-standards.md", "device-facts.md", "errors.md", "architecture.md"} <= cited
    assert sorted(name for name in cited if not (REPO / "docs" / name).exists()) == []
