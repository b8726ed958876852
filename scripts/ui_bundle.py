"""The Carbon views' bundle and the sources it was built from, tied by a digest.

``make ui-bundle`` builds ``airflow_carbon_provider/plugins/www/dist/carbon.js`` (npm ci + vite, Node 20) and
then runs ``python scripts/ui_bundle.py --write``, which records the digest of the sources (``src/``, the
package manifest, the lockfile and the build configuration) next to the bundle. ``make test`` checks that
digest (no Node needed), so a source edit without a rebuild fails the suite; CI also rebuilds and compares.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

WWW = Path(__file__).resolve().parent.parent / "airflow_carbon_provider" / "plugins" / "www"
BUNDLE = WWW / "dist" / "carbon.js"
DIGEST_FILE = WWW / "dist" / "carbon.js.sources.sha256"
SOURCES = ("package.json", "package-lock.json", "tsconfig.json", "vite.config.ts")


def source_files() -> list[Path]:
    return sorted([WWW / name for name in SOURCES] + [p for p in (WWW / "src").rglob("*") if p.is_file()])


def source_digest() -> str:
    """SHA-256 over every source file's relative path and bytes, in a fixed order."""
    digest = hashlib.sha256()
    for path in source_files():
        digest.update(path.relative_to(WWW).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def recorded_digest() -> str:
    return DIGEST_FILE.read_text().split()[0]


def main(argv: list[str]) -> int:
    if argv == ["--write"]:
        DIGEST_FILE.write_text(f"{source_digest()}  sources of carbon.js (scripts/ui_bundle.py)\n")
        return 0
    if recorded_digest() != source_digest():
        print("The Carbon UI sources changed since dist/carbon.js was built: run `make ui-bundle`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
